#!/usr/bin/python3
# Writes a torchvision ImageNet ResNet's weights as a safetensors file that `qnn eval/ptq --weights`
# reads (apps/weights.h load_weights). qnn's resnet18/resnet50 use torchvision's state_dict names,
# so the tensors keep their names; BatchNorm's num_batches_tracked (which qnn does not keep) is
# dropped. The metadata records the input normalization the weights were trained with
# (normalize_mean / normalize_std, ImageNet's), which `qnn eval` applies, and where they came from.
#
# Run on a machine that has torch + torchvision (Debian: python3-torch python3-torchvision) and the
# weights (torchvision downloads them to ~/.cache/torch/hub/checkpoints/ on first use):
#   /usr/bin/python3 tools/convert_torchvision_weights.py --model resnet18 --out resnet18.safetensors
#   /usr/bin/python3 tools/convert_torchvision_weights.py --model resnet50 --weights IMAGENET1K_V1 --out r50.safetensors
#   /usr/bin/python3 tools/convert_torchvision_weights.py --model resnet18 --state-dict resnet18-f37072fd.pth --out r18.st
#   /usr/bin/python3 tools/convert_torchvision_weights.py --model resnet18 --weights none --seed 0 --out random.st
# --weights none writes a randomly initialised model (torch.manual_seed(seed)): for testing the path.
#
# IMAGENET1K_V1 (the default) are the weights of the original torchvision models (ResNet-18 69.76%,
# ResNet-50 76.13% top-1), which the GPFQ papers quantize, evaluated with Resize(256) + CenterCrop(224)
# as qnn does. ResNet-50's IMAGENET1K_V2 expects Resize(232): the metadata records each weight set's
# eval sizes (eval_resize_size, eval_crop_size), but qnn's ImageNet pipeline uses 256 / 224.
#
# safetensors is written here directly (an 8-byte little-endian header length, a JSON header, then
# the raw little-endian tensors), so the safetensors Python package is not needed.
import argparse
import json
import struct

import torch
import torchvision

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}


def save_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            raise SystemExit(f"{name}: dtype {t.dtype} has no safetensors name here (expected {list(DTYPES)})")
        data = t.numpy().tobytes()  # numpy writes the machine's byte order: little-endian on x86/ARM
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def main():
    p = argparse.ArgumentParser(description="Write a torchvision ResNet as safetensors for qnn")
    p.add_argument("--model", choices=["resnet18", "resnet50"], required=True)
    p.add_argument("--weights", default="IMAGENET1K_V1",
                   help="a torchvision weight name (IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT) or none (default %(default)s)")
    p.add_argument("--state-dict", help="a .pth state_dict file to load instead (e.g. a downloaded checkpoint)")
    p.add_argument("--seed", type=int, default=0, help="torch seed for --weights none (default %(default)s)")
    p.add_argument("--out", required=True, help="the .safetensors file to write")
    a = p.parse_args()

    build = getattr(torchvision.models, a.model)
    meta = {"normalize_mean": ",".join(str(v) for v in IMAGENET_MEAN),
            "normalize_std": ",".join(str(v) for v in IMAGENET_STD),
            "model": a.model, "torchvision": torchvision.__version__}
    if a.state_dict:
        model = build(weights=None)
        model.load_state_dict(torch.load(a.state_dict, map_location="cpu"))
        meta["source"] = a.state_dict
    elif a.weights.lower() == "none":
        torch.manual_seed(a.seed)
        model = build(weights=None)
        meta["source"] = f"random initialisation, torch.manual_seed({a.seed})"
    else:
        enum = getattr(torchvision.models, {"resnet18": "ResNet18_Weights", "resnet50": "ResNet50_Weights"}[a.model])
        weights = enum[a.weights]
        model = build(weights=weights)
        meta["source"] = f"torchvision {enum.__name__}.{weights.name}"
        preset = weights.transforms()
        meta["eval_resize_size"] = str(preset.resize_size[0])
        meta["eval_crop_size"] = str(preset.crop_size[0])
        meta["torchvision_top1"] = str(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"])

    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_safetensors(a.out, state, meta)
    print(f"wrote {a.out}: {len(state)} tensors, {sum(v.numel() for v in state.values())} values; {meta['source']}")


if __name__ == "__main__":
    main()
