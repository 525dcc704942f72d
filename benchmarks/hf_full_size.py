"""HF transformers 4.44 side of benchmarks/full-size.ts: BLIP-2 in a full-size configuration (Flan-T5-XL or OPT-2.7b)
with random bf16 weights (built in bf16, never in fp32), one image, greedy and beam 5 with exactly 20 new tokens.
Prints JSON."""
import argparse
import json
import resource
import time

import torch
from transformers import Blip2Config, Blip2ForConditionalGeneration


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ids", default="3,9,1202,13,1", help="prompt token ids, comma-separated")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = Blip2Config.from_json_file(args.config)
    t0 = time.perf_counter()
    torch.set_default_dtype(torch.bfloat16)
    model = Blip2ForConditionalGeneration(config).eval()
    torch.set_default_dtype(torch.float32)
    load_s = time.perf_counter() - t0
    size = config.vision_config.image_size
    pixels = torch.randn(1, 3, size, size).to(torch.bfloat16)
    ids = torch.tensor([[int(i) for i in args.ids.split(",")]])
    out = {"load_s": load_s, "params": sum(p.numel() for p in model.parameters()), "phases": {}}
    for name, beams in [("greedy", 1), ("beam5", 5)]:
        with torch.no_grad():
            t = time.perf_counter()
            enc = model.generate(pixel_values=pixels, input_ids=ids, max_new_tokens=1, min_new_tokens=1, num_beams=beams)
            first = time.perf_counter() - t
            t = time.perf_counter()
            seq = model.generate(pixel_values=pixels, input_ids=ids, max_new_tokens=20, min_new_tokens=20, num_beams=beams)
            total = time.perf_counter() - t
        out["phases"][name] = {"total_s": total, "first_token_s": first, "per_token_s": (total - first) / 19,
                               "new_tokens": seq.shape[1] - 1, "peak_rss_mib": peak_mib()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
