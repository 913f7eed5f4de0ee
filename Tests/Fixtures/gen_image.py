"""Reference fixtures for MVLMImageTests: images written by Pillow (or by the tiny PNG writer below
for variants Pillow cannot write) and what Pillow and transformers make of them.

Writes Tests/Fixtures/image/:
  *.png, *.jpg          the inputs: every PNG colour type and bit depth (1/2/4/8/16), palette with
                        tRNS and with indexes past the palette, gray/RGB with tRNS, Adam7
                        interlacing, every PNG row filter; baseline 4:2:0 / 4:4:4, progressive,
                        grayscale and CMYK JPEGs
  decoded/NAME.npy      uint8 [h, w, 3]: Pillow's Image.open(NAME).convert("RGB")
  resize/*.npy          uint8 [h, w, 3]: Pillow's Image.resize((w, h), filter) of rgb_160x104.png
  clip/*.npy.deflate    float32 [3, h, w] .npy files, raw-deflated (a 336x336 one is 1.35 MB plain,
                        about 0.27 MB deflated): transformers' PIL-based CLIPImageProcessor
                        (CLIPImageProcessorPil in transformers 5) after MobileVLM's expand2square,
                        CLIP-336 parameters given explicitly; and small non-padded variants
  hostile/*             broken files (with whether Pillow refuses them)
  expected.json         the list of cases, the parameters, the library versions

Usage:
  /work/tvenv/bin/pip install pillow          # transformers, torch and numpy already there
  /work/tvenv/bin/python Tests/Fixtures/gen_image.py
Deterministic: a rerun gives identical bytes for the same Pillow (and its bundled libjpeg-turbo).
"""

import io
import json
import pathlib
import re
import shutil
import struct
import zlib

import numpy as np
import PIL
from PIL import Image, features

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "image"

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


# --- a minimal PNG writer, for the variants Pillow does not write ------------------------------

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples: np.ndarray, depth: int) -> bytes:
    """One row of samples (already interleaved) at `depth` bits, big-endian, MSB first."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    padded = np.zeros(((len(samples) + per_byte - 1) // per_byte) * per_byte, dtype=np.uint8)
    padded[: len(samples)] = samples
    out = np.zeros(len(padded) // per_byte, dtype=np.uint8)
    for index in range(per_byte):
        out |= (padded[index::per_byte] << (8 - depth * (index + 1))).astype(np.uint8)
    return out.tobytes()


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind: int, row: bytes, previous: bytes, bpp: int) -> bytes:
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i] if previous else 0
        c = previous[i - bpp] if previous and i >= bpp else 0
        predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (x - predictor) & 0xFF
    return bytes([kind]) + bytes(out)


def write_png(path, pixels: np.ndarray, depth: int, color_type: int, extra=b"", interlace=False):
    """pixels: [h, w, channels] integer samples. Rows use filters 0..4 in turn."""
    height, width = pixels.shape[:2]
    bpp = max(1, CHANNELS[color_type] * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    row_index = 0
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        previous = b""
        for row in sub:
            packed = pack_row(row.reshape(-1), depth)
            raw += filter_row(row_index % 5, packed, previous, bpp)
            previous = packed
            row_index += 1
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += chunk(b"IEND", b"")
    pathlib.Path(path).write_bytes(data)


# --- test pictures ---------------------------------------------------------------------------

def texture(width: int, height: int, seed: int) -> np.ndarray:
    """An RGB picture with gradients, sharp edges, fine texture and noise (uint8 [h, w, 3])."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / max(width - 1, 1)
    g = 127.5 + 127.5 * np.sin(x / 3.1) * np.cos(y / 4.7)
    b = 255 * y / max(height - 1, 1)
    picture = np.stack([r, g, b], axis=-1)
    picture[((x // 8 + y // 8) % 2 == 0) & (x > width * 0.6)] = [250, 20, 30]  # checker, hard edges
    picture[(x - width * 0.3) ** 2 + (y - height * 0.5) ** 2 < (height * 0.2) ** 2] = [10, 240, 5]
    picture += rng.normal(0, 12, picture.shape)
    picture[:, :2] = 255  # saturated border columns (clipping after resampling)
    picture[-2:, :] = 0
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


def save(name: str, image: Image.Image, **options) -> str:
    image.save(OUT / name, **options)
    return name


def make_inputs() -> list[str]:
    names = []
    base = texture(160, 104, 0)
    names.append(save("rgb_160x104.png", Image.fromarray(base, "RGB")))
    # More than twice as tall as wide: Pillow 13 resizes it vertically first.
    names.append(save("tall_40x130.png", Image.fromarray(texture(40, 130, 10), "RGB")))

    small = texture(48, 32, 1)
    alpha = np.tile(np.linspace(0, 255, 48).astype(np.uint8), (32, 1))
    alpha[:8, :8] = 0  # fully transparent pixels keep their colour: alpha is dropped, not composited
    names.append(save("rgba_48x32.png", Image.fromarray(np.dstack([small, alpha]), "RGBA")))
    gray = texture(40, 28, 2)[..., 1]
    names.append(save("gray_40x28.png", Image.fromarray(gray, "L")))
    names.append(save("la_40x28.png", Image.fromarray(np.dstack([gray, gray[::-1]]), "LA")))
    names.append(save("gray1_37x21.png", Image.fromarray(texture(37, 21, 3)[..., 0] > 128).convert("1")))
    palette_image = Image.fromarray(texture(40, 28, 4), "RGB").quantize(colors=200, dither=Image.Dither.NONE)
    names.append(save("palette_40x28.png", palette_image))
    sixteen = Image.fromarray(texture(35, 22, 5), "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    names.append(save("palette4_trns_35x22.png", sixteen, bits=4, transparency=3))
    values = (np.arange(40 * 28, dtype=np.uint32).reshape(28, 40) * 61) % 65536
    values[:6, :] = np.arange(40)[None, :] * 6  # a band below 256, where clipping does not reach
    names.append(save("gray16_40x28.png", Image.fromarray(values.astype(np.uint16))))

    rng = np.random.default_rng(6)
    def hand(name, shape, depth, color_type, extra=b"", interlace=False, high=None):
        top = (1 << depth) if high is None else high
        pixels = rng.integers(0, top, size=shape, dtype=np.int64)
        write_png(OUT / name, pixels, depth, color_type, extra, interlace)
        names.append(name)
    hand("gray2_33x17.png", (17, 33, 1), 2, 0)
    hand("gray4_33x17.png", (17, 33, 1), 4, 0)
    hand("rgb16_33x17.png", (17, 33, 3), 16, 2)
    hand("rgba16_33x17.png", (17, 33, 4), 16, 6)
    hand("la16_33x17.png", (17, 33, 2), 16, 4)
    hand("gray_trns_33x17.png", (17, 33, 1), 8, 0, chunk(b"tRNS", struct.pack(">H", 77)))
    hand("rgb_trns_33x17.png", (17, 33, 3), 8, 2, chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3)))
    palette = bytes(rng.integers(0, 256, size=6 * 3, dtype=np.int64).astype(np.uint8))
    hand("palette_short_33x17.png", (17, 33, 1), 8, 3, chunk(b"PLTE", palette), high=12)  # indexes 6..11 past the palette
    palette4 = bytes(rng.integers(0, 256, size=4 * 3, dtype=np.int64).astype(np.uint8))
    hand("interlaced_palette2_29x19.png", (19, 29, 1), 2, 3, chunk(b"PLTE", palette4) + chunk(b"tRNS", b"\x00\x80"), interlace=True)
    hand("interlaced_rgb_37x23.png", (23, 37, 3), 8, 2, interlace=True)
    hand("interlaced_rgba16_21x13.png", (13, 21, 4), 16, 6, interlace=True)
    hand("interlaced_gray1_3x2.png", (2, 3, 1), 1, 0, interlace=True)  # passes with no pixels

    photo = texture(97, 61, 7)
    names.append(save("baseline_420_97x61.jpg", Image.fromarray(photo), quality=90, subsampling=2))
    names.append(save("baseline_444_97x61.jpg", Image.fromarray(photo), quality=95, subsampling=0))
    names.append(save("progressive_97x61.jpg", Image.fromarray(photo), quality=85, progressive=True))
    names.append(save("gray_97x61.jpg", Image.fromarray(photo[..., 0], "L"), quality=90))
    names.append(save("cmyk_48x32.jpg", Image.fromarray(texture(48, 32, 8)).convert("CMYK"), quality=90))
    # A tall picture for the CLIP oracle (pads left and right, where the PNG pads top and bottom).
    names.append(save("tall_120x168.jpg", Image.fromarray(texture(120, 168, 9)), quality=92))
    return names


# --- oracles ---------------------------------------------------------------------------------

def expand2square(pil_img, background_color):
    # MobileVLM's (LLaVA's) mobilevlm/utils.py.
    width, height = pil_img.size
    if width == height:
        return pil_img
    elif width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    else:
        result = Image.new(pil_img.mode, (height, height), background_color)
        result.paste(pil_img, ((height - width) // 2, 0))
        return result


def clip_processor(**overrides):
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    parameters = dict(
        do_resize=True, size={"shortest_edge": 336}, resample=3, do_center_crop=True,
        crop_size={"height": 336, "width": 336}, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True,
    )
    parameters.update(overrides)
    return CLIPImageProcessorPil(**parameters), parameters


def save_deflated(path: pathlib.Path, values: np.ndarray) -> int:
    """Writes `values` as a .npy file compressed to a raw deflate stream; returns the .npy size."""
    buffer = io.BytesIO()
    np.save(buffer, values)
    plain = buffer.getvalue()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    path.write_bytes(compressor.compress(plain) + compressor.flush())
    return len(plain)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for folder in ("decoded", "resize", "clip", "hostile"):
        (OUT / folder).mkdir(parents=True)
    expected = {"decode": [], "resize": [], "clip": [], "hostile": []}

    for name in make_inputs():
        with Image.open(OUT / name) as image:
            mode = image.mode
            rgb = np.asarray(image.convert("RGB"))
        np.save(OUT / "decoded" / f"{name}.npy", rgb)
        expected["decode"].append({"file": name, "pillow_mode": mode, "width": rgb.shape[1], "height": rgb.shape[0]})

    source = Image.open(OUT / "rgb_160x104.png").convert("RGB")
    filters = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
               "lanczos": Image.Resampling.LANCZOS, "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING}
    cases = [("bicubic", 61, 40), ("bicubic", 237, 154), ("bicubic", 160, 57), ("bicubic", 83, 104),
             ("bicubic", 211, 39), ("bicubic", 1, 1), ("bicubic", 3, 2),
             # Pillow 13 goes vertical first when height - h > 2 * (width - w): 211x39, 129x40 and
             # 150x20 do, 128x40 (equality) does not.
             ("bicubic", 128, 40), ("bicubic", 129, 40), ("bicubic", 150, 20),
             ("bilinear", 70, 45), ("lanczos", 70, 45), ("box", 70, 45), ("hamming", 70, 45), ("lanczos", 190, 130)]
    for filter_name, width, height in cases:
        out = np.asarray(source.resize((width, height), filters[filter_name]))
        name = f"{filter_name}_{width}x{height}.npy"
        np.save(OUT / "resize" / name, out)
        expected["resize"].append({"source": "rgb_160x104.png", "filter": filter_name, "width": width,
                                   "height": height, "npy": name, "order": "pillow13"})
    # Pillow 12 and earlier always resize horizontally first: one pass at a time reproduces it.
    for width, height in [(211, 39), (129, 40)]:
        resample = Image.Resampling.BICUBIC
        out = np.asarray(source.resize((width, source.height), resample).resize((width, height), resample))
        name = f"bicubic_{width}x{height}_horizontal_first.npy"
        np.save(OUT / "resize" / name, out)
        expected["resize"].append({"source": "rgb_160x104.png", "filter": "bicubic", "width": width,
                                   "height": height, "npy": name, "order": "horizontalFirst"})

    # MobileVLM's pipeline at CLIP-336: a wide PNG and a tall JPEG.
    processor, parameters = clip_processor()
    background = tuple(int(x * 255) for x in processor.image_mean)
    for name in ("rgb_160x104.png", "tall_120x168.jpg"):
        image = expand2square(Image.open(OUT / name).convert("RGB"), background)
        values = processor.preprocess(image, return_tensors="pt")["pixel_values"][0].numpy()
        assert values.dtype == np.float32 and values.shape == (3, 336, 336)
        npy = f"{name}.clip336.npy.deflate"
        size = save_deflated(OUT / "clip" / npy, values)
        expected["clip"].append({"file": name, "pad": True, "config": parameters, "npy": npy, "npy_bytes": size,
                                 "shape": list(values.shape), "background": list(background)})

    # Without padding, with small sizes (float32 outputs stay small): shortest-edge resize then
    # crop; a crop larger than the resized image (zero padding); a square resize; bilinear.
    both = ("rgb_160x104.png", "tall_120x168.jpg")
    variants = [
        ("short48_crop40", {"size": {"shortest_edge": 48}, "crop_size": {"height": 40, "width": 40}}, both),
        ("short32_crop40", {"size": 32, "crop_size": 40}, both),
        ("square44_crop40x36", {"size": {"height": 44, "width": 44}, "crop_size": {"height": 36, "width": 40}}, both),
        ("bilinear_short50_nocrop", {"size": {"shortest_edge": 50}, "resample": 2, "do_center_crop": False,
                                     "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.5, 1.0]}, both),
        # 40x130 -> 32x104: Pillow 13's vertical-first order inside the pipeline.
        ("short32_crop32", {"size": {"shortest_edge": 32}, "crop_size": 32}, ("tall_40x130.png",)),
    ]
    for label, overrides, files in variants:
        processor, parameters = clip_processor(**overrides)
        for name in files:
            image = Image.open(OUT / name).convert("RGB")
            values = processor.preprocess(image, return_tensors="pt")["pixel_values"][0].numpy()
            npy = f"{name}.{label}.npy.deflate"
            size = save_deflated(OUT / "clip" / npy, values.astype(np.float32))
            expected["clip"].append({"file": name, "pad": False, "config": parameters, "npy": npy, "npy_bytes": size,
                                     "shape": list(values.shape)})

    make_hostile(expected)
    expected["versions"] = {
        "pillow": PIL.__version__,
        "pillow_libjpeg_turbo": features.version("libjpeg_turbo"),
        "pillow_zlib": features.version("zlib"),
        "numpy": np.__version__,
        "transformers": __import__("transformers").__version__,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


def pillow_refuses(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.convert("RGB")
        return None
    except Exception as error:  # noqa: BLE001 - any refusal counts
        return re.sub(r" at 0x[0-9a-f]+", "", f"{type(error).__name__}: {error}")  # no addresses


def make_hostile(expected) -> None:
    def add(name, data, code, keyword):
        (OUT / "hostile" / name).write_bytes(data)
        expected["hostile"].append({"file": name, "code": code, "keyword": keyword, "pillow": pillow_refuses(data)})

    png = (OUT / "rgba_48x32.png").read_bytes()
    jpg = (OUT / "baseline_420_97x61.jpg").read_bytes()
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    add("huge_dimensions.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""),
        "unsupported", "limit")
    sof = jpg.index(b"\xff\xc0")
    add("huge_dimensions.jpg", jpg[: sof + 5] + struct.pack(">HH", 60000, 60000) + jpg[sof + 9:], "unsupported", "limit")
    broken = bytearray(png)
    broken[29] ^= 0xFF  # IHDR's CRC
    add("bad_crc.png", bytes(broken), "malformed", "libpng")
    idat = png.index(b"IDAT") - 4
    add("bad_ancillary_crc.png", png[:idat] + struct.pack(">I", 4) + b"tEXt" + b"a\x00bc" + b"\x00" * 4 + png[idat:],
        "malformed", "CRC")
    add("bad_zlib.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", bytes(range(7, 200, 3))) + chunk(b"IEND", b""), "malformed", "libpng")
    add("bad_ihdr_depth.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 7, 2, 0, 0, 0))
        + chunk(b"IEND", b""), "malformed", "libpng")
    add("zero_width.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 8, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b""), "malformed", "libpng")
    add("truncated_header.png", png[:30], "truncated", "ends early")
    add("truncated_data.png", png[: len(png) // 2], "truncated", "ends early")
    add("truncated_header.jpg", jpg[:200], "truncated", "ends early")
    add("truncated_data.jpg", jpg[: len(jpg) * 2 // 3], "truncated", "ends early")
    add("no_sof.jpg", b"\xff\xd8\xff\xd9", "malformed", "libjpeg")
    rng = np.random.default_rng(11)
    add("garbage.bin", bytes(rng.integers(0, 256, 300, dtype=np.int64).astype(np.uint8)), "malformed", "not a PNG or JPEG")
    # libjpeg skips the bytes that are no marker and runs out of data looking for one.
    add("jpeg_magic_garbage.jpg", b"\xff\xd8\xff" + bytes(rng.integers(0, 256, 300, dtype=np.int64).astype(np.uint8)), "truncated", "ends early")
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, "GIF")
    add("tiny.gif", gif.getvalue(), "unsupported", "GIF")


if __name__ == "__main__":
    main()
