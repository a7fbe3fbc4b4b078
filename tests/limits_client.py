"""A process that calls an endpoint through JudgeClient, as one worker would (tests and bench).

    python -m tests.limits_client BASE_URL --calls 24 --width 8 --max 4 [--rpm 0] [--redis URL]

Prints one JSON line: calls made, answers received, seconds, the wall-clock end of each call."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from metajudge.llm.client import EndpointConfig, JudgeClient


async def main(args: argparse.Namespace) -> dict:
    config = EndpointConfig(
        base_url=args.base_url,
        model="judge-limits",
        max_concurrency=args.max,
        requests_per_minute=args.rpm,
        limits_url=args.redis,
        limits_key=args.key,
        max_attempts=1,
    )
    client = JudgeClient(config, concurrency=args.width)
    started, started_at, ended = time.monotonic(), time.time(), []

    async def call(i: int):
        result = await client.complete(f"R1: point {i}\nS1: point {i}")
        ended.append(time.time())
        return result

    try:
        results = await asyncio.gather(*(call(i) for i in range(args.calls)))
    finally:
        await client.close()
    ok = sum(1 for r in results if r.text is not None)
    return {
        "calls": args.calls,
        "ok": ok,
        "seconds": time.monotonic() - started,
        "started_at": started_at,
        "ended": ended,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--calls", type=int, default=24)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--max", type=int, default=4)
    parser.add_argument("--rpm", type=int, default=0)
    parser.add_argument("--redis", default="")
    parser.add_argument("--key", default="limits-test")
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)
