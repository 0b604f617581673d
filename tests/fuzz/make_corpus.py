#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, tests/fuzz/corpus/<target>/: small valid inputs of
each reader, which libFuzzer mutates from. Deterministic; standard library only, plus a C compiler
and libstb-dev for the JPEG seeds (stb_image_write). Run from anywhere:

    python3 tests/fuzz/make_corpus.py            (rewrites the corpus folders)
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors ---------------------------------------------------------------------------
def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), written in order, header padded to 8."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def make_safetensors():
    shutil.copyfile(os.path.join(ROOT, "tests", "data", "small.safetensors"),
                os.path.join(CORPUS, "safetensors", "small.safetensors"))
    out("safetensors", "every_dtype.safetensors", safetensors([
        ("w", "F32", [2, 2], f32(1.0, -2.5, 0.0, 3.25)),
        ("step", "I64", [], struct.pack("<q", 42)),
        ("idx", "I32", [3], struct.pack("<3i", -1, 0, 7)),
        ("mask", "U8", [1, 4], bytes([0, 1, 254, 255])),
        ("empty", "F32", [0, 3], b""),
    ], {"format": "pt", "epoch": "3"}))
    out("safetensors", "empty.safetensors", safetensors([]))


# ---- quantized weights (quant/quantized_weights.h) ------------------------------------------
def pack_codes(codes, bits):
    n = (len(codes) * bits + 7) // 8
    out_bytes = bytearray(n)
    pos = 0
    for c in codes:
        for b in range(bits):
            if c >> b & 1:
                out_bytes[pos // 8] |= 1 << (pos % 8)
            pos += 1
    return bytes(out_bytes)


def make_quantized():
    # Per-channel 2-bit midtread weight [2, 3] (groups 2, 4 levels each) and a float bias.
    levels = [[-0.5, 0.0, 0.5, 1.0], [-0.25, 0.0, 0.25, 0.5]]
    codes = [0, 1, 2, 3, 1, 1]
    index = {"conv.weight": {"shape": [2, 3], "groups": 2, "levels": 4, "bits_per_code": 2,
                             "alphabet": "midtread K=2 delta=0.5", "delta": [0.5, 0.25]}}
    out("quantized", "per_channel_2bit.safetensors", safetensors([
        ("conv.weight.codes", "U8", [2], pack_codes(codes, 2)),
        ("conv.weight.levels", "F32", [2, 4], f32(*levels[0], *levels[1])),
        ("conv.bias", "F32", [2], f32(0.1, -0.1)),
    ], {"qnn_quantized": json.dumps(index), "method": "gpfq", "bits": "2"}))
    # Per-tensor ternary linear weight [3, 2] and an I64 buffer.
    index = {"fc.weight": {"shape": [3, 2], "groups": 1, "levels": 3, "bits_per_code": 2,
                           "alphabet": "ternary"}}
    out("quantized", "ternary.safetensors", safetensors([
        ("bn.num_batches_tracked", "I64", [], struct.pack("<q", 5)),
        ("fc.weight.codes", "U8", [2], pack_codes([0, 1, 2, 2, 1, 0], 2)),
        ("fc.weight.levels", "F32", [1, 3], f32(-0.75, 0.0, 0.75)),
    ], {"qnn_quantized": json.dumps(index)}))


# ---- CIFAR (first byte: 0 CIFAR-10, 1 CIFAR-100; then whole records) -------------------------
def make_cifar():
    pixels = bytes((7 * i + (i >> 5)) & 0xFF for i in range(3072))
    out("cifar", "cifar10_one_record.bin", b"\x00" + bytes([3]) + pixels)
    out("cifar", "cifar100_one_record.bin", b"\x01" + bytes([4, 42]) + pixels[::-1])


# ---- images --------------------------------------------------------------------------------
def png(width, height, color_type, bit_depth, rows, interlace=0, palette=None):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(bytes([f % 5]) + r for f, r in enumerate(rows))  # filters 0..4 in turn
    body = chunk(b"IHDR", ihdr)
    if palette:
        body += chunk(b"PLTE", palette)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def make_pngs():
    rgb = [bytes((x * 30 + y * 7 + c * 50) & 0xFF for x in range(8) for c in range(3)) for y in range(8)]
    out("image", "rgb_8x8.png", png(8, 8, 2, 8, rgb))
    gray = [bytes((x * y * 16) & 0xFF for x in range(4)) for y in range(4)]
    out("image", "gray_4x4.png", png(4, 4, 0, 8, gray))
    rgba = [bytes((x * 40 + c * 60 + y) & 0xFF for x in range(5) for c in range(4)) for y in range(3)]
    out("image", "rgba_5x3.png", png(5, 3, 6, 8, rgba))
    pal = [bytes([(x + y) % 4 << 6]) for y in range(3) for x in range(1)]  # 2-bit indices, 3x3
    out("image", "palette_3x3.png", png(3, 3, 3, 2, pal, palette=bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])))
    gray16 = [struct.pack(">4H", *(x * 9000 + y for x in range(4))) for y in range(2)]
    out("image", "gray16_4x2.png", png(4, 2, 0, 16, gray16))
    # Adam7: an 8x8 RGB image is 15 passes' rows in turn; with filter 0 each row is its pixels.
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        for y in range(y0, 8, dy):
            rows.append(b"".join(rgb[y][3 * x:3 * x + 3] for x in range(x0, 8, dx)))
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 1)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    out("image", "interlaced_8x8.png",
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


JPEG_WRITER = r"""
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#include <stdlib.h>
/* usage: w h channels quality out.jpg: a smooth pattern written by stb_image_write. */
int main(int argc, char** argv) {
  int w = atoi(argv[1]), h = atoi(argv[2]), c = atoi(argv[3]), q = atoi(argv[4]);
  unsigned char* p = malloc((size_t)w * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) p[(y * w + x) * c + k] = (unsigned char)(x * 255 / w + y * 3 + k * 70);
  return !stbi_write_jpg(argv[5], w, h, c, p, q);
}
"""


def make_jpegs():
    sample = "/work/shared/data/imagenet/class_samples_original/n03825788_nipple.JPEG"
    for candidate in (os.path.join(ROOT, "..", "shared", "data", "imagenet", "class_samples_original",
                                   "n03825788_nipple.JPEG"), sample):
        if os.path.exists(candidate) and os.path.getsize(candidate) < 4096:
            shutil.copyfile(candidate, os.path.join(CORPUS, "image", "imagenet_106x150.jpg"))
            break
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "w.c"), os.path.join(tmp, "w")
        with open(src, "w") as f:
            f.write(JPEG_WRITER)
        subprocess.run(["cc", "-O1", "-I/usr/include/stb", src, "-o", exe, "-lm"], check=True)
        for w, h, c, q, name in [(8, 8, 3, 90, "rgb_8x8_q90.jpg"), (17, 9, 3, 50, "rgb_17x9_q50_420.jpg"),
                                 (16, 16, 1, 75, "gray_16x16.jpg")]:
            path = os.path.join(CORPUS, "image", name)
            subprocess.run([exe, str(w), str(h), str(c), str(q), path], check=True)


# ---- JSON configs and bit plans --------------------------------------------------------------
def make_configs():
    for rel in ["resnet20_cifar10.json", "parq/resnet20_cifar10_2bit.json", "parq/table1.json",
                "gpfq/cifar10.json", "gpfq/resnet18_imagenet_4bit.json"]:
        shutil.copyfile(os.path.join(ROOT, "apps", "configs", rel),
                    os.path.join(CORPUS, "configs", rel.replace("/", "_")))
    out("configs", "ptq_run.json", json.dumps({
        "model": "resnet20", "method": "gpfq", "bits": "ternary", "C": 1.5, "m": 256, "p": 0.25,
        "lambda": 0.01, "fold_bn": True, "search_C": "1.0:2.0:0.05", "alphabet": "midrise0",
        "seed": 3}, indent=1).encode())
    out("configs", "bit_plan.json", json.dumps({
        "default": 4, "kinds": {"Linear": 8, "Conv2d": "ternary"},
        "layers": {"conv1": "float", "layer1.0.conv1": 2, "linear": "binary"}}, indent=1).encode())
    out("configs", "train_adamw_cosine.json", json.dumps({
        "model": "vit_tiny", "dataset": "imagenet", "optimizer": "adamw", "lr": 5e-4, "weight_decay": 0.05,
        "no_decay_norm_bias": True, "clip_grad_norm": 1.0, "epochs": 3,
        "schedule": {"name": "cosine", "warmup_epochs": 1}, "train_limit": 64}, indent=1).encode())


# ---- archives ------------------------------------------------------------------------------
def tar_bytes(mode):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.USTAR_FORMAT) as tar:
        def add(name, kind, data=b"", link=""):
            info = tarfile.TarInfo(name)
            info.type, info.mtime, info.mode, info.linkname, info.size = kind, 0, 0o644, link, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("data", tarfile.DIRTYPE)
        add("data/batch.bin", tarfile.REGTYPE, b"\x03" + bytes(range(64)))
        add("data/readme.txt", tarfile.REGTYPE, b"tiny\n")
        add("data/latest", tarfile.SYMTYPE, link="batch.bin")
        add("data/copy.bin", tarfile.LNKTYPE, link="data/batch.bin")
    return buf.getvalue()


def make_archives():
    raw = tar_bytes("w")
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(raw)
    out("archive", "tiny.tar.gz", gz.getvalue())
    out("archive", "tiny.tar.bz2", tar_bytes("w:bz2"))
    out("archive", "tiny.tar.xz", tar_bytes("w:xz"))
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr(zipfile.ZipInfo("data/batch.bin", (1980, 1, 1, 0, 0, 0)), b"\x03" + bytes(range(64)))
        f.writestr(zipfile.ZipInfo("data/", (1980, 1, 1, 0, 0, 0)), b"")
    out("archive", "tiny.zip", z.getvalue())


def main():
    for target in ["safetensors", "quantized", "cifar", "image", "configs", "archive"]:
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
        os.makedirs(os.path.join(CORPUS, target))
    make_safetensors()
    make_quantized()
    make_cifar()
    make_pngs()
    make_jpegs()
    make_configs()
    make_archives()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
