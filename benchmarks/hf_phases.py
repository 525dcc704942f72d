"""Hugging Face's side of benchmarks/profile.ts: where HF transformers spends the time of one generate call.

Runs with the hf-baseline environment (../shared/hf-baseline, HF 4.44 on Debian's CPU torch):

    ../shared/hf-baseline/run.sh python benchmarks/hf_phases.py --model DIR --images DIR [--reps 3] > hf-phases.json

The same work as hf_bench.py's generation phases (batch 8, prompt "a photo of", 20 new tokens, beam 5 and greedy):
preprocessing is timed on its own, then forward hooks time the vision tower, the Q-Former, the language projection,
the T5 encoder, every decoder call (HF computes the cross-attention keys and values inside the first one) and the
LM head; "bookkeeping" is the rest of generate (logits processors, beam scorer, cache reordering, Python). Medians
over the repetitions after one warm-up. One JSON object on stdout.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

torch.set_num_threads(2)

import hf_env_fixes  # noqa: F401,E402  (the hf-baseline environment puts it on the path)
from transformers import Blip2ForConditionalGeneration, BlipImageProcessor, T5Tokenizer  # noqa: E402

PROMPT = "a photo of"


def images_from(folder):
    meta = json.load(open(f"{folder}/meta.json"))
    out = []
    for i in range(len(meta["captions"])):
        raw = np.fromfile(f"{folder}/img{i}.rgb", dtype=np.uint8).reshape(meta["height"], meta["width"], 3)
        out.append(Image.fromarray(raw))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    model = Blip2ForConditionalGeneration.from_pretrained(args.model, torch_dtype=dtype).eval()
    proc = BlipImageProcessor.from_pretrained(args.model)
    tok = T5Tokenizer.from_pretrained(args.model)
    images = images_from(args.images)

    spent = {}
    calls = {}
    started = {}

    def hook(name, module):
        def pre(_m, _inputs):
            started[name] = time.perf_counter()

        def post(_m, _inputs, _output):
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started[name]
            calls[name] = calls.get(name, 0) + 1

        module.register_forward_pre_hook(pre)
        module.register_forward_hook(post)

    lm = model.language_model
    for name, module in [("vision", model.vision_model), ("qformer", model.qformer),
                         ("projection", model.language_projection), ("textEncoder", lm.encoder),
                         ("decoder", lm.decoder), ("lmHead", lm.lm_head)]:
        hook(name, module)

    result = {"phases": {}}
    for phase, kw in [("beam5", {"num_beams": 5, "max_new_tokens": 20}), ("greedy", {"max_new_tokens": 20})]:
        reps = []
        for rep in range(args.reps + 1):
            spent.clear()
            calls.clear()
            t0 = time.perf_counter()
            pv = proc(images=images, return_tensors="pt")["pixel_values"].to(dtype)
            enc = tok([PROMPT] * len(images), return_tensors="pt")
            t1 = time.perf_counter()
            with torch.no_grad():
                seq = model.generate(pixel_values=pv, input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kw)
            t2 = time.perf_counter()
            row = {"preprocess": t1 - t0, "generate": t2 - t1, **spent}
            row["bookkeeping"] = row["generate"] - sum(spent.values())
            row["decoderCalls"] = calls.get("decoder", 0)
            if rep > 0:
                reps.append(row)
            print(phase, rep, {k: round(v, 3) for k, v in row.items()}, file=sys.stderr, flush=True)
        result["phases"][phase] = {k: statistics.median(r[k] for r in reps) for k in reps[0]}
        result["phases"][phase]["firstRow"] = seq[0].tolist()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
