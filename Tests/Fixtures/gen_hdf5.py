#!/usr/bin/env python3
"""HDF5 fixtures, written by keras itself (Keras 3 `.weights.h5` and the legacy `.h5` of
`model.save`) and by h5py (a Keras-2 / Hugging Face `tf_model.h5`, generic files, hostile files).

Run through Tests/Fixtures/generate.py (`generate.py hdf5`) or directly. Needs KERAS_BACKEND=torch,
which this script sets before importing keras. expected.json holds, per good file, the layout, the
tensors in the order the reader must list them (name, dtype as safetensors spells it, shape,
flattened values as strings: repr of the float64 value or the exact integer) and some metadata;
per hostile file, where the reader must fail (`init` or `tensor:<name>`) and with which error code.
"""
import json
import os
import pathlib
import shutil

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "hdf5"
MAX_VALUES = 256  # tensors with more elements get no "values" entry (shape/dtype still checked)

DTYPE_NAMES = {
    "float16": "F16", "float32": "F32", "float64": "F64",
    "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
    "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64",
    "bool": "BOOL", "bfloat16": "BF16",
}


def dtype_name(array: np.ndarray) -> str:
    if array.dtype == ml_dtypes.bfloat16:
        return "BF16"
    return DTYPE_NAMES[array.dtype.newbyteorder("=").name]


def value_strings(array: np.ndarray):
    flat = np.asarray(array).reshape(-1)
    if flat.dtype == ml_dtypes.bfloat16 or flat.dtype.kind == "f":
        return [repr(float(v)) for v in flat.astype(np.float64)]
    if flat.dtype.kind == "b":
        return ["1" if v else "0" for v in flat]
    return [str(int(v)) for v in flat]


def entry(name: str, array: np.ndarray):
    item = {"name": name, "dtype": dtype_name(array), "shape": list(array.shape)}
    if array.size <= MAX_VALUES:
        item["values"] = value_strings(array)
    return item


def keras3_order_key(path: str):
    """The documented listing order for files without creation-order tracking: link names in
    byte order at each level, except that all-digit names (Keras `vars/0`, `vars/1`, ...) sort
    numerically among themselves."""
    key = []
    for part in path.split("/"):
        key.append((0, int(part), "") if part.isdigit() else (1, 0, part.encode()))
    return key


def h5_datasets(path: pathlib.Path):
    """Every dataset in the file as {path: numpy array}, read by h5py."""
    found = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                if obj.attrs.get("dtype") == "bfloat16":
                    data = np.asarray(data).view(ml_dtypes.bfloat16)
                found[name] = np.asarray(data)
        f.visititems(visit)
    return found


# Keras 3 ------------------------------------------------------------------------------------------

def build_keras_model():
    import keras
    from keras import layers

    keras.utils.set_random_seed(1234)
    inner_in = keras.Input(shape=(5, 3))
    inner = keras.Model(inner_in, layers.Dense(4, name="dense")(inner_in), name="functional")
    head = keras.Sequential([layers.Dense(3, name="dense"), layers.Dense(2, name="dense_1")],
                            name="head")
    tokens = keras.Input(shape=(6,), dtype="int32")
    x = layers.Embedding(10, 4, name="embedding")(tokens)
    x = layers.Conv1D(3, 2, name="conv1d")(x)
    x = layers.BatchNormalization(name="batch_normalization")(x)
    x = inner(x)
    x = head(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(2, name="output_dense")(x)
    model = keras.Model(tokens, out, name="model")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    rng = np.random.default_rng(7)
    model.fit(rng.integers(0, 10, size=(4, 6)).astype("int32"),
              rng.standard_normal((4, 2)).astype("float32"), epochs=1, batch_size=4, verbose=0)
    return model


def write_keras3(model, expected):
    path = OUT / "keras3_model.weights.h5"
    model.save_weights(str(path))
    data = h5_datasets(path)
    # Cross-check against keras: every model variable's value is one of the stored arrays.
    stored = [a for n, a in data.items() if not n.startswith("optimizer/")]
    assert len(stored) == len(model.weights), (len(stored), len(model.weights))
    for w in model.weights:
        v = np.asarray(w.numpy())
        assert any(a.shape == v.shape and np.array_equal(a, v) for a in stored), w.path
    assert any(n.startswith("layers/functional/layers/dense/vars/") for n in data)
    assert any(n.startswith("optimizer/vars/1") and len(n.split("/")[-1]) > 1 for n in data)
    names = sorted(data, key=keras3_order_key)
    expected[path.name] = {
        "layout": "keras3",
        "tensors": [entry(n, data[n]) for n in names],
        "metadata": {"layout": "keras3", "optimizer_tensor_count": str(
            sum(1 for n in names if n.startswith("optimizer/")))},
    }


def write_keras3_checkpoint_dependencies(expected):
    """Keras 3 layout as written for models built by tf.keras 2.13 (`_layer_checkpoint_dependencies`
    instead of `layers`), with a model-level variable in the top-level `vars`, a bfloat16 variable
    stored the way Keras 3's H5IOStore stores it (2-byte opaque data plus attr dtype="bfloat16")
    and 12 variables in one layer (numeric order: 0, 1, ..., 9, 10, 11)."""
    path = OUT / "keras3_checkpoint_dependencies.weights.h5"
    rng = np.random.default_rng(5)
    arrays = {
        "vars/0": np.array(7, "i8"),
        "_layer_checkpoint_dependencies/dense/vars/0": rng.standard_normal((3, 2)).astype("f4"),
        "_layer_checkpoint_dependencies/dense/vars/1": rng.standard_normal(2).astype("f4"),
        "_layer_checkpoint_dependencies/mixed/vars/0": (rng.standard_normal((2, 2)) * 4).astype(ml_dtypes.bfloat16),
    }
    for i in range(12):
        arrays[f"_layer_checkpoint_dependencies/many/vars/{i}"] = np.full((1,), i, "f2")
    with h5py.File(path, "w") as f:
        for name, value in arrays.items():
            d = f.create_dataset(name, data=value)
            if value.dtype == ml_dtypes.bfloat16:
                d.attrs["dtype"] = "bfloat16"
    names = sorted(arrays, key=keras3_order_key)
    assert names.index("_layer_checkpoint_dependencies/many/vars/10") > names.index(
        "_layer_checkpoint_dependencies/many/vars/9")
    expected[path.name] = {
        "layout": "keras3",
        "tensors": [entry(n, arrays[n]) for n in names],
        "metadata": {"layout": "keras3", "optimizer_tensor_count": "0"},
    }


def write_model_save(model, expected):
    """`model.save("x.h5")`: keras's legacy writer (root model_config etc., `model_weights/`
    holding layer_names/weight_names, `optimizer_weights/`)."""
    path = OUT / "model_save.h5"
    model.save(str(path))
    tensors = []
    with h5py.File(path, "r") as f:
        mw = f["model_weights"]
        root_attrs = dict(f.attrs)
        layer_names = [_text(n) for n in mw.attrs["layer_names"]]
        for layer in layer_names:
            for w in mw[layer].attrs["weight_names"]:
                w = _text(w)
                tensors.append(entry(w, np.asarray(mw[layer][w][()])))
        if "top_level_model_weights" in mw:
            for w in mw["top_level_model_weights"].attrs["weight_names"]:
                w = _text(w)
                tensors.append(entry(w, np.asarray(mw["top_level_model_weights"][w][()])))
        if "optimizer_weights" in f:
            og = f["optimizer_weights"]
            for w in og.attrs["weight_names"]:
                w = _text(w)
                tensors.append(entry("optimizer_weights/" + w, np.asarray(og[w][()])))
    assert "model_config" in root_attrs
    expected[path.name] = {
        "layout": "kerasLegacy",
        "tensors": tensors,
        "metadata": {"layout": "kerasLegacy",
                     "keras_version": _text(root_attrs["keras_version"]),
                     "backend": _text(root_attrs["backend"])},
    }


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


# Keras 2 / Hugging Face legacy files written with h5py ---------------------------------------------

def write_tf_model(expected):
    """A `tf_model.h5` as tf-keras `save_weights_to_hdf5_group` writes it for a Hugging Face TF
    model: root attrs layer_names (numpy 'S' array), backend, keras_version (bytes); one group
    per layer with attr weight_names; datasets at `<layer>/<weight name>`."""
    path = OUT / "tf_model.h5"
    rng = np.random.default_rng(42)
    bert = "tf_bert_model"
    bert_weights = [
        (f"{bert}/bert/embeddings/word_embeddings/weight:0", rng.standard_normal((12, 4)).astype("f4")),
        (f"{bert}/bert/embeddings/position_embeddings/embeddings:0", rng.standard_normal((6, 4)).astype("f4")),
        (f"{bert}/bert/embeddings/LayerNorm/gamma:0", np.ones(4, "f4")),
        (f"{bert}/bert/embeddings/LayerNorm/beta:0", np.zeros(4, "f4")),
        (f"{bert}/bert/encoder/layer_._0/attention/self/query/kernel:0", rng.standard_normal((4, 4)).astype("f4")),
        (f"{bert}/bert/encoder/layer_._0/attention/self/query/bias:0", rng.standard_normal(4).astype("f4")),
    ]
    classifier = [
        ("classifier/kernel:0", rng.standard_normal((4, 2)).astype("f4")),
        ("classifier/bias:0", np.array([0.5, -0.25], "f4")),
    ]
    layers = [bert, "dropout_37", "classifier"]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in layers])
        f.attrs["backend"] = "tensorflow".encode("utf8")
        f.attrs["keras_version"] = "2.15.0".encode("utf8")
        for layer in sorted(layers):
            g = f.create_group(layer)
            weights = {bert: bert_weights, "classifier": classifier}.get(layer, [])
            if layer == "classifier":
                # Variable-length UTF-8 strings (what h5py writes for a list of str).
                g.attrs["weight_names"] = [n for n, _ in weights]
            else:
                # A numpy 'S' array; np.asarray([]) (float64, shape (0,)) for a weightless layer.
                g.attrs["weight_names"] = np.asarray([n.encode("utf8") for n, _ in weights])
            for name, value in weights:
                d = g.create_dataset(name, value.shape, dtype=value.dtype)
                d[:] = value
    tensors = [entry(n, v) for n, v in bert_weights + classifier]
    expected[path.name] = {
        "layout": "kerasLegacy",
        "tensors": tensors,
        "metadata": {"layout": "kerasLegacy", "keras_version": "2.15.0", "backend": "tensorflow"},
    }


def write_sharded_style(expected):
    """A Hugging Face TF shard: root layer_names lists dataset paths directly, and the attribute
    is split into `layer_names0`, `layer_names1` (how keras stores attributes over 64 KB)."""
    path = OUT / "tf_model-00001-of-00002.h5"
    rng = np.random.default_rng(3)
    weights = [
        ("tf_gpt2_model/transformer/wte/weight:0", rng.standard_normal((5, 3)).astype("f4")),
        ("tf_gpt2_model/transformer/h_._0/ln_1/gamma:0", rng.standard_normal(3).astype("f4")),
        ("tf_gpt2_model/transformer/h_._0/attn/c_attn/weight:0", rng.standard_normal((3, 9)).astype("f2")),
    ]
    with h5py.File(path, "w") as f:
        for name, value in weights:
            d = f.create_dataset(name, value.shape, dtype=value.dtype)
            d[:] = value
        names = np.asarray([n.encode() for n, _ in weights])
        f.attrs["layer_names0"] = names[:2]
        f.attrs["layer_names1"] = names[2:]
    expected[path.name] = {
        "layout": "kerasLegacy",
        "tensors": [entry(n, v) for n, v in weights],
        "metadata": {"layout": "kerasLegacy"},
    }


# Generic files --------------------------------------------------------------------------------------

def write_generic(expected):
    path = OUT / "generic.h5"
    rng = np.random.default_rng(11)
    arrays = {
        "f16": np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035e-05, 5.96e-08, np.inf, -np.inf, np.nan], "f2"),
        "f32": rng.standard_normal((3, 4)).astype("f4"),
        "f64": rng.standard_normal((2, 3)),
        "ints/i8": np.array([-128, -1, 0, 1, 127], "i1"),
        "ints/i16": np.array([[-32768, 0], [1, 32767]], "i2"),
        "ints/i32": np.array([-(2**31), -7, 0, 2**31 - 1], "i4"),
        "ints/i64": np.array([-(2**63), -(2**40), 0, 2**63 - 1], "i8"),
        "ints/u8": np.array([0, 1, 200, 255], "u1"),
        "ints/u16": np.array([0, 65535], "u2"),
        "ints/u32": np.array([0, 2**32 - 1, 123456], "u4"),
        "ints/u64": np.array([0, 2**64 - 1, 2**53 + 1], "u8"),
        "bool": np.array([[True, False, True], [False, False, True]]),
        "scalar_f32": np.array(3.25, "f4"),
        "scalar_i64": np.array(-42, "i8"),
        "empty_f32": np.zeros((0, 3), "f4"),
        "big_endian/f32": rng.standard_normal(5).astype(">f4"),
        "big_endian/i16": np.array([-300, 2, 1000], ">i2"),
        "big_endian/f64": np.array([1.5, -2.25], ">f8"),
        "big_endian/f16": np.array([1.0, -0.5, 65504.0, 6.1035e-05], ">f2"),
    }
    chunked = rng.standard_normal((8, 5)).astype("f4")
    bf16 = (rng.standard_normal((2, 3)) * 10).astype(ml_dtypes.bfloat16)
    bf16_float = np.array([1.5, -2.0, 3.140625, 0.0, -1e30], dtype=ml_dtypes.bfloat16)
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs["title"] = "every dtype"                       # vlen UTF-8 string
        f.attrs["fixed"] = b"bytes!"                           # fixed-length string
        f.attrs["count"] = np.int64(-7)
        f.attrs["ucount"] = np.uint32(9)
        f.attrs["scale"] = np.float32(0.5)
        f.attrs["flag"] = np.bool_(True)
        f.attrs["shape"] = np.array([2, 3], "i4")
        f.attrs["names"] = np.asarray([b"a", b"bc"])
        for name, value in arrays.items():
            f.create_dataset(name, data=value)
        f.create_dataset("chunked_gzip", data=chunked, chunks=(3, 2), compression="gzip",
                         compression_opts=6, shuffle=True)
        d = f.create_dataset("bf16", data=bf16)                # opaque 2-byte + attr, as keras 3 writes
        d.attrs["dtype"] = "bfloat16"
        # bfloat16 as an HDF5 float class with bfloat16 fields (how other writers describe it).
        bf16_type = h5py.h5t.IEEE_F32LE.copy()
        bf16_type.set_fields(15, 7, 8, 0, 7)
        bf16_type.set_offset(0)
        bf16_type.set_precision(16)
        bf16_type.set_size(2)
        bf16_type.set_ebias(127)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_obj_track_times(False)
        dsid = h5py.h5d.create(f.id, b"bf16_float_class", bf16_type,
                               h5py.h5s.create_simple(bf16_float.shape), dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, bf16_float.view(np.uint16), mtype=bf16_type)
    # Creation order is tracked at the root only; the implicitly created subgroups list by name.
    listing = []
    for name in list(arrays) + ["chunked_gzip", "bf16", "bf16_float_class"]:
        if "/" not in name:
            listing.append(name)
        elif not any(m.startswith(name.split("/")[0] + "/") for m in listing):
            group = name.split("/")[0] + "/"
            listing += sorted((n for n in arrays if n.startswith(group)), key=str.encode)
    everything = dict(arrays, chunked_gzip=chunked, bf16=bf16, bf16_float_class=bf16_float)
    expected[path.name] = {
        "layout": "generic",
        "tensors": [entry(n, everything[n]) for n in listing],
        "metadata": {"layout": "generic", "title": "every dtype", "fixed": "bytes!",
                     "count": "-7", "ucount": "9", "scale": "0.5", "flag": "true",
                     "shape": "[2, 3]", "names": "[\"a\", \"bc\"]"},
        # Which tensors must come back as views into the file mapping (contiguous, unfiltered,
        # little-endian) and which as owned copies.
        "zero_copy": ["f32", "ints/i64", "bool", "scalar_f32", "bf16", "bf16_float_class"],
        "copied": ["chunked_gzip", "big_endian/f32", "big_endian/i16", "big_endian/f16", "empty_f32"],
    }
    # Same data behind a 512-byte user block: dataset offsets are relative to the superblock.
    ub = OUT / "generic_userblock.h5"
    with h5py.File(ub, "w", userblock_size=512) as f:
        f.create_dataset("f32", data=arrays["f32"])
        f.create_dataset("ints/i32", data=arrays["ints/i32"])
    with open(ub, "r+b") as raw:
        raw.write(b"user block text, not HDF5\n")
    expected[ub.name] = {
        "layout": "generic",
        "tensors": [entry("f32", arrays["f32"]), entry("ints/i32", arrays["ints/i32"])],
        "metadata": {"layout": "generic"},
        "zero_copy": ["f32"],
    }


def write_scalar_in_compact_layout(expected):
    """A dataset with compact storage (data inside the object header): no file offset, so it is
    read through H5Dread."""
    path = OUT / "compact.h5"
    value = np.arange(6, dtype="i4").reshape(2, 3)
    with h5py.File(path, "w") as f:
        space = h5py.h5s.create_simple(value.shape)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        dcpl.set_obj_track_times(False)  # no timestamps: reruns give identical bytes
        dsid = h5py.h5d.create(f.id, b"compact_i32", h5py.h5t.STD_I32LE, space, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, value)
        f.create_dataset("vars_not_keras", data=np.float32(1.0))
        f["dup"] = f["compact_i32"]                      # a second hard link: listed once
        f["alias"] = h5py.SoftLink("/compact_i32")       # soft links are not listed
    expected[path.name] = {
        "layout": "generic",
        "tensors": [entry("compact_i32", value), entry("vars_not_keras", np.array(1.0, "f4"))],
        "metadata": {"layout": "generic"},
        "copied": ["compact_i32"],
    }


# Hostile files -------------------------------------------------------------------------------------

def write_hostile(expected):
    hostile = {}
    good = (OUT / "generic.h5").read_bytes()

    (OUT / "hostile_truncated.h5").write_bytes(good[: len(good) // 2])
    hostile["hostile_truncated.h5"] = {"fails": "init", "code": "truncated"}

    (OUT / "hostile_truncated_superblock.h5").write_bytes(good[:40])
    hostile["hostile_truncated_superblock.h5"] = {"fails": "init", "code": "any"}

    rng = np.random.default_rng(99)
    (OUT / "hostile_garbage.h5").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    hostile["hostile_garbage.h5"] = {"fails": "init", "code": "malformed"}

    (OUT / "hostile_signature_then_garbage.h5").write_bytes(
        b"\x89HDF\r\n\x1a\n" + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes())
    hostile["hostile_signature_then_garbage.h5"] = {"fails": "init", "code": "any"}

    (OUT / "hostile_empty.h5").write_bytes(b"")
    hostile["hostile_empty.h5"] = {"fails": "init", "code": "truncated"}

    with h5py.File(OUT / "hostile_missing_layer.h5", "w") as f:
        f.attrs["layer_names"] = np.asarray([b"dense", b"ghost"])
        g = f.create_group("dense")
        g.attrs["weight_names"] = np.asarray([b"dense/kernel:0"])
        g.create_dataset("dense/kernel:0", data=np.ones((2, 2), "f4"))
    hostile["hostile_missing_layer.h5"] = {"fails": "init", "code": "not-found"}

    with h5py.File(OUT / "hostile_missing_weight.h5", "w") as f:
        f.attrs["layer_names"] = np.asarray([b"dense"])
        g = f.create_group("dense")
        g.attrs["weight_names"] = np.asarray([b"dense/kernel:0", b"dense/bias:0"])
        g.create_dataset("dense/kernel:0", data=np.ones((2, 2), "f4"))
    hostile["hostile_missing_weight.h5"] = {"fails": "init", "code": "not-found"}

    with h5py.File(OUT / "hostile_compound.h5", "w") as f:
        f.create_dataset("ok", data=np.arange(3, dtype="f4"))
        f.create_dataset("pairs", data=np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]))
        f.create_dataset("text", data=np.asarray([b"abc", b"de"]))
    hostile["hostile_compound.h5"] = {
        "fails": "tensor:pairs", "code": "unsupported", "also": "tensor:text",
        "listed": ["ok"],
    }

    with h5py.File(OUT / "hostile_keras3_string_var.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.ones((2, 2), "f4"))
        f.create_dataset("layers/lookup/vars/0", data=np.asarray(["x", "y"], dtype=h5py.string_dtype()))
        f.create_group("vars")
    hostile["hostile_keras3_string_var.weights.h5"] = {"fails": "init", "code": "unsupported"}

    # A gzip chunk overwritten with garbage: listing works, reading fails inside H5Dread.
    path = OUT / "hostile_corrupt_chunk.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("z", data=np.arange(64, dtype="f4").reshape(8, 8), chunks=(8, 8),
                         compression="gzip")
        f.create_dataset("fine", data=np.arange(4, dtype="i2"))
    with h5py.File(path, "r") as f:
        info = f["z"].id.get_chunk_info(0)
        offset, size = info.byte_offset, info.size
    blob = bytearray(path.read_bytes())
    blob[offset:offset + size] = bytes((i * 37 + 11) % 256 for i in range(size))
    path.write_bytes(bytes(blob))
    hostile["hostile_corrupt_chunk.h5"] = {"fails": "tensor:z", "code": "malformed", "listed": ["fine", "z"]}

    # The last dataset's bytes cut off, with the superblock's end-of-file address patched so
    # that libhdf5 still opens the file: the mapped view must be refused, not read past the end.
    path = OUT / "hostile_data_past_eof.h5"
    with h5py.File(path, "w", libver="earliest") as f:
        f.create_dataset("head", data=np.arange(8, dtype="f4"))
        f.create_dataset("tail", data=np.arange(4096, dtype="f4"))
        tail_offset = f["tail"].id.get_offset()
    blob = bytearray(path.read_bytes())
    assert blob[8] == 0 and int.from_bytes(blob[40:48], "little") == len(blob)  # superblock v0 EOF
    assert tail_offset + 4096 * 4 == len(blob), "tail's data must end the file"
    cut = tail_offset + 1000
    blob = blob[:cut]
    blob[40:48] = cut.to_bytes(8, "little")
    path.write_bytes(bytes(blob))
    hostile[path.name] = {"fails": "tensor:tail", "code": "out-of-bounds", "listed": ["head", "tail"]}

    # A chunked dataset that declares 4 TiB and stores nothing: reading must not allocate it.
    with h5py.File(OUT / "hostile_sparse_huge.h5", "w") as f:
        f.create_dataset("huge", shape=(1 << 20, 1 << 20), dtype="f4", chunks=(1, 1024))
    hostile["hostile_sparse_huge.h5"] = {"fails": "tensor:huge", "code": "out-of-bounds", "listed": ["huge"]}

    # layer_names naming an external link: following it would open another file. Refused.
    with h5py.File(OUT / "hostile_external_link.h5", "w") as f:
        f.attrs["layer_names"] = np.asarray([b"ext"])
        f["ext"] = h5py.ExternalLink("generic.h5", "/")
    hostile["hostile_external_link.h5"] = {"fails": "init", "code": "not-found"}

    # Raw data in an external file (which would be read from disk by name): refused.
    with h5py.File(OUT / "hostile_external_storage.h5", "w") as f:
        f.create_dataset("inside", data=np.arange(3, dtype="i4"))
        f.create_dataset("outside", shape=(4,), dtype="f4", external=[("/etc/hostname", 0, 16)])
    hostile["hostile_external_storage.h5"] = {"fails": "tensor:outside", "code": "unsupported", "listed": ["inside"]}

    expected["hostile"] = hostile


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    expected = {}
    model = build_keras_model()
    write_keras3(model, expected)
    write_keras3_checkpoint_dependencies(expected)
    write_model_save(model, expected)
    write_tf_model(expected)
    write_sharded_style(expected)
    write_generic(expected)
    write_scalar_in_compact_layout(expected)
    write_hostile(expected)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes")


if __name__ == "__main__":
    main()
