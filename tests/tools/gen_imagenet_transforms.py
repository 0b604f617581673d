#!/usr/bin/python3
# Generates tests/data/imagenet_transforms.json: golden values of torchvision's ImageNet transforms
# on PIL images (the pipeline torchvision's ImageNet recipes run: PIL decode, Resize(256) bilinear,
# CenterCrop(224), ToTensor, Normalize). Run once, with Debian's python3-torch/torchvision/PIL:
#   /usr/bin/python3 tests/tools/gen_imagenet_transforms.py [SHARED_DATA_DIR]
# SHARED_DATA_DIR (default /work/shared/data) holds imagenet/class_samples_original/, whose JPEGs
# give the decode + eval-pipeline cases (the test reads the same files from QNN_DATA_DIR).
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

rng = np.random.default_rng(0)
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def flat_f(t):  # 9 significant digits: every float32 round-trips
    return [float("%.9g" % v) for v in t.reshape(-1).tolist()]


def chw(img):  # PIL RGB image -> uint8 numpy [3, H, W]
    return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def random_image(h, w):
    # Smooth ramps plus noise, so both the filter weights and the rounding matter.
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256])
    noise = rng.integers(-40, 41, size=(3, h, w))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def pil(a):  # uint8 [3, H, W] -> PIL RGB
    return Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)), "RGB")


def resize_case(h, w, out_h, out_w):
    a = random_image(h, w)
    out = chw(pil(a).resize((out_w, out_h), Image.BILINEAR))
    return {"input_shape": [3, h, w], "input": a.reshape(-1).tolist(), "size": [out_h, out_w],
            "output": out.reshape(-1).tolist()}


def shorter_side_case(h, w, s):
    img = Image.new("RGB", (w, h))
    out = T.Resize(s)(img)
    return {"hw": [h, w], "size": s, "out_hw": [out.size[1], out.size[0]]}


def center_crop_case(h, w, ch, cw):
    a = random_image(h, w)
    out = chw(F.center_crop(pil(a), [ch, cw]))
    return {"input_shape": [3, h, w], "input": a.reshape(-1).tolist(), "crop": [ch, cw],
            "output": out.reshape(-1).tolist()}


def resized_crop_case(h, w, top, left, ch, cw, size):
    a = random_image(h, w)
    out = chw(F.resized_crop(pil(a), top, left, ch, cw, [size, size], T.InterpolationMode.BILINEAR))
    return {"input_shape": [3, h, w], "input": a.reshape(-1).tolist(), "box": [top, left, ch, cw], "size": size,
            "output": out.reshape(-1).tolist()}


def eval_pipeline_case(h, w, resize, crop):
    a = random_image(h, w)
    t = T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(MEAN, STD)])
    out = t(pil(a))
    return {"input_shape": [3, h, w], "input": a.reshape(-1).tolist(), "resize": resize, "crop": crop,
            "output": flat_f(out.numpy())}


def jpeg_case(root, name):
    # The full eval pipeline on a real JPEG, decoded by PIL (libjpeg). Stored: the decoded size and
    # per-channel means, and the 224x224 output's per-channel means plus every 8th pixel of it
    # (28x28 per channel), to keep the file small.
    with Image.open(os.path.join(root, name)) as im:
        mode = im.mode
        rgb = im.convert("RGB")
    decoded = chw(rgb).astype(np.float64)
    t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    out = t(rgb).numpy()
    return {"file": name, "mode": mode, "hw": [rgb.size[1], rgb.size[0]],
            "decoded_mean": [float(decoded[c].mean()) for c in range(3)],
            "output_mean": [float(out[c].astype(np.float64).mean()) for c in range(3)],
            "output_grid": flat_f(out[:, ::8, ::8])}


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
    samples = os.path.join(shared, "imagenet", "class_samples_original")
    data = {
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "PIL": Image.__version__},
        "resize": [
            resize_case(40, 57, 9, 13),    # strong downscale: the filter widens (antialias)
            resize_case(37, 50, 30, 41),   # mild downscale
            resize_case(11, 7, 25, 16),    # upscale: plain bilinear
            resize_case(20, 31, 20, 17),   # width only
            resize_case(29, 16, 10, 16),   # height only
            resize_case(13, 9, 13, 9),     # same size: a copy
            resize_case(64, 3, 5, 1),      # to one column
        ],
        "shorter_side": [shorter_side_case(h, w, s) for (h, w, s) in
                         [(375, 500, 256), (500, 375, 256), (333, 500, 256), (256, 256, 256), (100, 700, 256),
                          (1024, 683, 256), (7, 3, 5), (480, 640, 256)]],
        "center_crop": [
            center_crop_case(20, 17, 8, 8),   # (20-8)/2 = 6, (17-8)/2 = 4.5 -> round half even = 4
            center_crop_case(15, 21, 6, 10),  # 4.5 -> 4, 5.5 -> 6
            center_crop_case(5, 6, 9, 8),     # larger than the image: zero padding
            center_crop_case(9, 9, 9, 9),
        ],
        "resized_crop": [
            resized_crop_case(40, 50, 3, 7, 30, 21, 12),
            resized_crop_case(30, 30, 0, 0, 5, 9, 16),   # a small box upscaled
        ],
        "eval_pipeline": [eval_pipeline_case(50, 37, 20, 16), eval_pipeline_case(23, 64, 18, 18)],
        "jpeg": [jpeg_case(samples, n) for n in
                 ["n01440764_tench.JPEG", "n03908714_pencil_sharpener.JPEG", "n01740131_night_snake.JPEG",
                  "n01924916_flatworm.JPEG"]],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "imagenet_transforms.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
