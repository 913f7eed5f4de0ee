/// Receives the input of every `linear` node an `Interpreter.run` computes, by weight name.
///
/// Calibration (`mvlm convert --calibrate`) uses it to gather the mean squared activation of
/// every input column of every linear layer. A class, so one observer can accumulate across many
/// runs; it is called on the interpreter's thread, one node at a time.
open class LinearInputObserver {
    public init() {}

    /// Called before the product `input · weightᵀ` with `input` shaped `[rows, columns]`.
    open func observe(weight name: String, input: Activation) {}
}
