#!/usr/bin/env python3
"""Checks that two runs of convert_all.sh (an old and a new mvlm) wrote the same files.

GGUF files must be byte-identical. An .mvlm file must have the same header layout fields for its
data, byte-identical tensor data, and the same manifest except for fields the new version adds
(ALLOWED_ADDED) and the per-tensor decision records, which are compared in the old vocabulary
(the old `provenancedtype` is the new `source_dtype`; the old `storage` is the new `output_dtype`).

Usage: compare.py OLD_FOLDER NEW_FOLDER   (exit 0 when every file matches)
"""
import json, os, struct, sys

# Manifest paths (dot-separated) the new version may add.
ALLOWED_ADDED = {"verification", "source.files[].sha256", "quantization.passes"}


def read_mvlm(path):
    data = open(path, "rb").read()
    assert data[:8] == b"MVLM\r\n\x1a\n", path
    file_size, data_offset, data_size, manifest_offset, manifest_size = struct.unpack_from("<5Q", data, 16)
    assert file_size == len(data), path
    manifest = json.loads(data[manifest_offset:manifest_offset + manifest_size])
    return data[data_offset:data_offset + data_size], manifest


def old_vocabulary(decision):
    """A decision record reduced to the fields the old manifest had, in the old names."""
    source = decision.get("provenancedtype", decision.get("source_dtype"))
    stored = decision.get("output_dtype", decision.get("storage")) if "output_dtype" in decision else decision.get("storage")
    record = {"name": decision["name"], "role": decision["role"], "provenancedtype": source,
              "storage": stored, "reason": decision["reason"]}
    if decision.get("fallback") is not None:
        record["fallback"] = decision["fallback"]
    return record


def compare(old, new, path, problems):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                problems.append(f"{path}{key}: removed")
            else:
                compare(old[key], new[key], f"{path}{key}.", problems)
        for key in new:
            if key not in old and f"{path}{key}" not in ALLOWED_ADDED:
                problems.append(f"{path}{key}: added")
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            problems.append(f"{path}: {len(old)} items, now {len(new)}")
            return
        for a, b in zip(old, new):
            compare(a, b, path.rstrip(".") + "[].", problems)
    elif old != new:
        problems.append(f"{path.rstrip('.')}: {str(old)[:80]} != {str(new)[:80]}")


def main():
    old_dir, new_dir = sys.argv[1], sys.argv[2]
    failures = 0
    names = sorted(n for n in os.listdir(old_dir) if not n.endswith(".log"))
    for name in names:
        old_path, new_path = os.path.join(old_dir, name), os.path.join(new_dir, name)
        if not os.path.exists(new_path):
            print(f"MISSING {name}"); failures += 1; continue
        if name.endswith(".gguf"):
            same = open(old_path, "rb").read() == open(new_path, "rb").read()
            print(("same    " if same else "DIFFERS ") + name); failures += not same
            continue
        old_data, old_manifest = read_mvlm(old_path)
        new_data, new_manifest = read_mvlm(new_path)
        problems = []
        if old_data != new_data:
            problems.append("tensor data differs")
        for manifest in (old_manifest, new_manifest):
            recipe = manifest.get("quantization")
            if recipe and "decisions" in recipe:
                recipe["decisions"] = [old_vocabulary(d) for d in recipe["decisions"]]
        if "verification" in old_manifest and "verification" in new_manifest:
            # Same input, same file: the same summary (new fields allowed).
            pass
        compare(old_manifest, new_manifest, "", problems)
        print(("same    " if not problems else "DIFFERS ") + name + "".join("\n    " + p for p in problems))
        failures += bool(problems)
    print(f"{len(names) - failures} of {len(names)} files match")
    sys.exit(1 if failures else 0)


main()
