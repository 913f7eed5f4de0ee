/// The Unicode general category of a scalar as the splitting regexes test it (`\p{L}`, `\p{Lu}`,
/// `\p{M}`, `\p{P}`…), one small integer per category so that a class is a bit mask.
///
/// Scalars assigned after `PreTokenizer.unicodeVersion` are unassigned (`Cn`): the regex engines the
/// vocabularies were trained with did not know them (see `PreTokenizer.CharacterClass`).
enum UnicodeCategory: UInt8, CaseIterable, Sendable {
    case uppercaseLetter, lowercaseLetter, titlecaseLetter, modifierLetter, otherLetter
    case nonspacingMark, spacingMark, enclosingMark
    case decimalNumber, letterNumber, otherNumber
    case connectorPunctuation, dashPunctuation, openPunctuation, closePunctuation, initialPunctuation
    case finalPunctuation, otherPunctuation
    case mathSymbol, currencySymbol, modifierSymbol, otherSymbol
    case spaceSeparator, lineSeparator, paragraphSeparator
    case control, format, surrogate, privateUse, unassigned

    /// The category of `scalar`, limited to `PreTokenizer.unicodeVersion`.
    init(_ scalar: Unicode.Scalar) {
        if scalar.isASCII {
            self = Self.ascii[Int(scalar.value)]
            return
        }
        guard let age = scalar.properties.age,
            age.major < PreTokenizer.unicodeVersion.major
                || (age.major == PreTokenizer.unicodeVersion.major && age.minor <= PreTokenizer.unicodeVersion.minor)
        else {
            self = .unassigned
            return
        }
        self.init(scalar.properties.generalCategory)
    }

    init(_ category: Unicode.GeneralCategory) {
        switch category {
        case .uppercaseLetter: self = .uppercaseLetter
        case .lowercaseLetter: self = .lowercaseLetter
        case .titlecaseLetter: self = .titlecaseLetter
        case .modifierLetter: self = .modifierLetter
        case .otherLetter: self = .otherLetter
        case .nonspacingMark: self = .nonspacingMark
        case .spacingMark: self = .spacingMark
        case .enclosingMark: self = .enclosingMark
        case .decimalNumber: self = .decimalNumber
        case .letterNumber: self = .letterNumber
        case .otherNumber: self = .otherNumber
        case .connectorPunctuation: self = .connectorPunctuation
        case .dashPunctuation: self = .dashPunctuation
        case .openPunctuation: self = .openPunctuation
        case .closePunctuation: self = .closePunctuation
        case .initialPunctuation: self = .initialPunctuation
        case .finalPunctuation: self = .finalPunctuation
        case .otherPunctuation: self = .otherPunctuation
        case .mathSymbol: self = .mathSymbol
        case .currencySymbol: self = .currencySymbol
        case .modifierSymbol: self = .modifierSymbol
        case .otherSymbol: self = .otherSymbol
        case .spaceSeparator: self = .spaceSeparator
        case .lineSeparator: self = .lineSeparator
        case .paragraphSeparator: self = .paragraphSeparator
        case .control: self = .control
        case .format: self = .format
        case .surrogate: self = .surrogate
        case .privateUse: self = .privateUse
        case .unassigned: self = .unassigned
        @unknown default: self = .unassigned
        }
    }

    /// The categories of the 128 ASCII scalars (looked up rather than asked of the runtime, which
    /// is slower and gives the same answer).
    private static let ascii: [UnicodeCategory] = (0..<128).map {
        Self(Unicode.Scalar(UInt8($0)).properties.generalCategory)
    }

    /// This category as a bit in a `Mask`.
    var bit: UInt32 { 1 << UInt32(rawValue) }

    /// A set of categories.
    typealias Mask = UInt32

    /// The masks of the property names `\p{…}` accepts: one- and two-letter general categories
    /// (`L`, `Lu`, `M`, `Nd`, `P`, `S`, `Z`, `C`…) and their long names (`Letter`, `Mark`…).
    static func mask(named name: String) -> Mask? {
        func of(_ categories: UnicodeCategory...) -> Mask { categories.reduce(0) { $0 | $1.bit } }
        let letter = of(.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter)
        let mark = of(.nonspacingMark, .spacingMark, .enclosingMark)
        let number = of(.decimalNumber, .letterNumber, .otherNumber)
        let punctuation = of(
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation)
        let symbol = of(.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol)
        let separator = of(.spaceSeparator, .lineSeparator, .paragraphSeparator)
        let other = of(.control, .format, .surrogate, .privateUse, .unassigned)
        switch name {
        case "L", "Letter": return letter
        case "Lu", "Uppercase_Letter": return of(.uppercaseLetter)
        case "Ll", "Lowercase_Letter": return of(.lowercaseLetter)
        case "Lt", "Titlecase_Letter": return of(.titlecaseLetter)
        case "Lm", "Modifier_Letter": return of(.modifierLetter)
        case "Lo", "Other_Letter": return of(.otherLetter)
        case "M", "Mark": return mark
        case "Mn", "Nonspacing_Mark": return of(.nonspacingMark)
        case "Mc", "Spacing_Mark": return of(.spacingMark)
        case "Me", "Enclosing_Mark": return of(.enclosingMark)
        case "N", "Number": return number
        case "Nd", "Decimal_Number": return of(.decimalNumber)
        case "Nl", "Letter_Number": return of(.letterNumber)
        case "No", "Other_Number": return of(.otherNumber)
        case "P", "Punctuation": return punctuation
        case "Pc", "Connector_Punctuation": return of(.connectorPunctuation)
        case "Pd", "Dash_Punctuation": return of(.dashPunctuation)
        case "Ps", "Open_Punctuation": return of(.openPunctuation)
        case "Pe", "Close_Punctuation": return of(.closePunctuation)
        case "Pi", "Initial_Punctuation": return of(.initialPunctuation)
        case "Pf", "Final_Punctuation": return of(.finalPunctuation)
        case "Po", "Other_Punctuation": return of(.otherPunctuation)
        case "S", "Symbol": return symbol
        case "Sm", "Math_Symbol": return of(.mathSymbol)
        case "Sc", "Currency_Symbol": return of(.currencySymbol)
        case "Sk", "Modifier_Symbol": return of(.modifierSymbol)
        case "So", "Other_Symbol": return of(.otherSymbol)
        case "Z", "Separator": return separator
        case "Zs", "Space_Separator": return of(.spaceSeparator)
        case "Zl", "Line_Separator": return of(.lineSeparator)
        case "Zp", "Paragraph_Separator": return of(.paragraphSeparator)
        case "C", "Other": return other
        case "Cc", "Control": return of(.control)
        case "Cf", "Format": return of(.format)
        case "Cs", "Surrogate": return of(.surrogate)
        case "Co", "Private_Use": return of(.privateUse)
        case "Cn", "Unassigned": return of(.unassigned)
        default: return nil
        }
    }
}
