#!/usr/bin/env python3
"""Drives the benchmark described in bench/run.sh (which builds everything first)."""
import argparse, base64, hashlib, hmac, os, re, signal, subprocess, sys, tempfile, time, urllib.request

SECRET = "bench-secret"
FAKE = "http://127.0.0.1:18081"
REPLIES_LOG = "/tmp/bench-replies.log"
QUNGUAN_ADDR, FLOOR_ADDR = "127.0.0.1:18090", "127.0.0.1:18080"
STREAM_ADDR = "127.0.0.1:18091"
REPLICA_ADDRS = ["127.0.0.1:18092", "127.0.0.1:18093"]
WEBHOOK = "http://127.0.0.1:18081/robot/sendBySession?session=bench"


def sign(ts):
    mac = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def replies_logged():
    try:
        with open(REPLIES_LOG, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def wait_http(url, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url} did not come up")


def metrics():
    text = urllib.request.urlopen(f"http://{QUNGUAN_ADDR}/metrics").read().decode()
    values = {}
    for line in text.splitlines():
        if not line.startswith("#") and " " in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def metric_sum(values, prefix):
    return sum(v for k, v in values.items() if k.startswith(prefix))


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_ms(pid):
    """The CPU time (user + system) process `pid` has used, in milliseconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def wrk(args, url, cmd, path, seconds, run_id):
    ts = str(int(time.time() * 1000))
    env = dict(os.environ, TS=ts, SIGN=sign(ts), CMD=cmd, CALLBACK_PATH=path, ADMIN="true", RUN=run_id)
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", args.script, url],
                         env=env, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rate": rate, "p50": latency(50), "p99": latency(99), "non2xx": int(non2xx.group(1)) if non2xx else 0, "total": total}


def measure(args, who, cmd, run_id, qunguan_pid, floor_pid):
    url, path = (f"http://{QUNGUAN_ADDR}/callback", "/callback") if who == "qunguan" else (f"http://{FLOOR_ADDR}/", "/")
    pid = qunguan_pid if who == "qunguan" else floor_pid
    before_replies = replies_logged()
    before = metrics() if who == "qunguan" else None
    before_cpu = cpu_ms(pid)
    result = wrk(args, url, cmd, path, args.seconds, run_id)
    time.sleep(2.5)  # nginx flushes the reply log every second
    delivered = replies_logged() - before_replies
    result["replies"] = delivered / args.seconds
    # CPU per reply: the server's own time over what it delivered, which the machine's other
    # load moves far less than the rates.
    result["cpu"] = (cpu_ms(pid) - before_cpu) / max(delivered, 1) * 1000
    if who == "qunguan":
        after_load = metrics()
        time.sleep(5)  # then count what is still owed 5 s after the load stopped
        after = metrics()
        accepted = metric_sum(after, 'qunguan_callbacks_total{transport="http",outcome="accepted"}') - metric_sum(before, 'qunguan_callbacks_total{transport="http",outcome="accepted"}')
        replied = metric_sum(after, "qunguan_replies_total") - metric_sum(before, "qunguan_replies_total")
        result["owed"] = int(accepted - replied)
        result["tokens"] = int(metric_sum(after, "qunguan_token_fetches_total") - metric_sum(before, "qunguan_token_fetches_total"))
        result["busy"] = int(metric_sum(after_load, 'qunguan_callbacks_total{transport="http",outcome="busy"}') - metric_sum(before, 'qunguan_callbacks_total{transport="http",outcome="busy"}'))
        result["peak_rss"] = rss_kib(qunguan_pid, "VmHWM")
    return result


def measure_stream(args, gateway, cmd, run_id, pid):
    """Frames pushed by the local gateway to the Stream-mode qunguan (`pid`) for args.seconds."""
    before_replies = replies_logged()
    cpu_before = cpu_ms(pid)
    gateway.stdin.write(f"run {args.seconds} {cmd} {run_id} {WEBHOOK}\n")
    gateway.stdin.flush()
    line = gateway.stdout.readline().strip()
    counts = dict(part.split("=") for part in line.split())
    time.sleep(2.5)  # nginx flushes the reply log every second
    replies = replies_logged() - before_replies
    return {"rate": int(counts["acked"]) / args.seconds, "replies": replies / args.seconds,
            "cpu": (cpu_ms(pid) - cpu_before) * 1000 / max(replies, 1)}


def measure_events(args, gateway, run_id, pid):
    """Group events (renames) pushed by the local gateway to the Stream-mode qunguan (`pid`)."""
    cpu_before = cpu_ms(pid)
    gateway.stdin.write(f"events {args.seconds} {run_id}\n")
    gateway.stdin.flush()
    line = gateway.stdout.readline().strip()
    counts = dict(part.split("=") for part in line.split())
    time.sleep(0.5)  # what was pushed but not yet acknowledged still finishes
    return {"rate": int(counts["acked"]) / args.seconds,
            "cpu": (cpu_ms(pid) - cpu_before) * 1000 / max(int(counts["acked"]), 1)}


def start_replicas(work, database_url):
    """Two HTTP-mode qunguan replicas sharing one PostgreSQL database."""
    procs = []
    for i, addr in enumerate(REPLICA_ADDRS):
        env = dict(os.environ, DINGTALK_APP_KEY="dingbenchkey", DINGTALK_APP_SECRET=SECRET,
                   DINGTALK_OAPI_URL=FAKE, DINGTALK_API_URL=FAKE, QUNGUAN_LISTEN=addr,
                   QUNGUAN_DATABASE_URL=database_url, QUNGUAN_REPLICAS="2",
                   QUNGUAN_RATE_LIMIT_PER_SEC="100000", RUST_LOG=os.environ.get("BENCH_LOG", "info"))
        log = open(f"{work}/replica{i}.log", "w")
        procs.append(subprocess.Popen([os.path.abspath("target/release/qunguan"), "serve"], env=env, stderr=log, cwd=work))
    for addr in REPLICA_ADDRS:
        wait_http(f"http://{addr}/readyz", seconds=20)
    return procs


def measure_replicas(args, cmd, run_id):
    """wrk against both replicas at once, 16 connections each (32 in all, as elsewhere)."""
    before_replies = replies_logged()
    ts = str(int(time.time() * 1000))
    runs = []
    for i, addr in enumerate(REPLICA_ADDRS):
        env = dict(os.environ, TS=ts, SIGN=sign(ts), CMD=cmd, CALLBACK_PATH="/callback", ADMIN="true", RUN=f"{run_id}r{i}")
        runs.append(subprocess.Popen(["wrk", "-t1", "-c16", f"-d{args.seconds}s", "--latency", "-s", args.script, f"http://{addr}/callback"],
                                     env=env, stdout=subprocess.PIPE, text=True))
    outs = [p.communicate()[0] for p in runs]
    time.sleep(2.5)
    rate = sum(float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)) for o in outs)
    def p99(o):
        m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", o, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {"rate": rate, "replies": (replies_logged() - before_replies) / args.seconds, "p99": max(p99(o) for o in outs)}


def start_stream(work):
    """The local gateway and a Stream-mode qunguan connected to it."""
    gateway = subprocess.Popen([os.path.abspath("target/release/examples/stream_gateway")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    api = gateway.stdout.readline().split()[1]
    env = dict(os.environ, DINGTALK_APP_KEY="dingbenchkey", DINGTALK_APP_SECRET=SECRET,
               DINGTALK_OAPI_URL=FAKE, DINGTALK_API_URL=api, QUNGUAN_LISTEN=STREAM_ADDR, QUNGUAN_MODE="stream",
               QUNGUAN_DATABASE_URL=f"sqlite://{work}/stream.db", RUST_LOG=os.environ.get("BENCH_LOG", "info"),
               QUNGUAN_GROUPS=",".join(f"chatBENCH{i}" for i in range(16)))
    log = open(f"{work}/qunguan-stream.log", "w")
    qunguan = subprocess.Popen([os.path.abspath("target/release/qunguan"), "serve"], env=env, stderr=log, cwd=work)
    if gateway.stdout.readline().strip() != "connected":
        sys.exit("the Stream-mode qunguan did not connect to the bench gateway")
    return gateway, qunguan


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", required=True)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--commands", default="/help,/info", help="comma-separated commands to measure")
    args = p.parse_args()
    args.script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback.lua")
    procs = []
    subprocess.run(["nginx", "-c", f"{args.shared}/nginx-fake-upstream.conf", "-s", "stop"], capture_output=True)
    time.sleep(0.3)
    open(REPLIES_LOG, "w").close()
    subprocess.run(["nginx", "-c", f"{args.shared}/nginx-fake-upstream.conf"], check=True)
    try:
        work = tempfile.mkdtemp(prefix="qunguan-bench-")
        env = dict(os.environ,
                   DINGTALK_APP_KEY="dingbenchkey", DINGTALK_APP_SECRET=SECRET,
                   DINGTALK_OAPI_URL=FAKE, DINGTALK_API_URL=FAKE, QUNGUAN_LISTEN=QUNGUAN_ADDR,
                   QUNGUAN_DATABASE_URL=f"sqlite://{work}/qunguan.db",
                   QUNGUAN_GROUPS=",".join(f"chatBENCH{i}" for i in range(16)),
                   # The floor has no rate limit; DingTalk's 20/s per API would cap /info.
                   QUNGUAN_RATE_LIMIT_PER_SEC="100000", RUST_LOG=os.environ.get("BENCH_LOG", "info"))
        log = open(f"{work}/qunguan.log", "w")
        qunguan = subprocess.Popen([os.path.abspath("target/release/qunguan"), "serve"], env=env, stderr=log, cwd=work)
        procs.append(qunguan)
        floor = subprocess.Popen([os.path.abspath("target/bench-baseline/release/baseline")], env=dict(os.environ, MODE="webhook", SECRET=SECRET, ADDR=FLOOR_ADDR),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(floor)
        wait_http(f"http://{QUNGUAN_ADDR}/readyz")
        gateway, stream_qunguan = start_stream(work)
        procs.extend([stream_qunguan, gateway])
        replicas = start_replicas(work, os.environ["BENCH_DATABASE_URL"]) if os.environ.get("BENCH_DATABASE_URL") else []
        procs.extend(replicas)
        wait_http(f"http://{STREAM_ADDR}/readyz")
        time.sleep(1)
        idle = rss_kib(qunguan.pid, "VmRSS")
        print(f"machine: {os.cpu_count()} cores; wrk -t2 -c32 -d{args.seconds}s; {args.rounds} rounds, floor and qunguan alternating")
        print(f"qunguan idle RSS: {idle / 1024:.1f} MiB; log: {work}/qunguan.log")
        results = {}
        for rnd in range(args.rounds):
            for cmd in args.commands.split(","):
                for who in ["floor", "qunguan"]:
                    run_id = f"{int(time.time())}{rnd}{who[0]}{cmd[1]}"
                    r = measure(args, who, cmd, run_id, qunguan.pid, floor.pid)
                    results.setdefault((cmd, who), []).append(r)
                    extra = f" owed={r['owed']} busy={r['busy']} tokens={r['tokens']}" if who == "qunguan" else ""
                    print(f"  round {rnd + 1} {cmd:6} {who:8} callbacks/s={r['rate']:9.0f} replies/s={r['replies']:9.0f} "
                          f"p50={r['p50']:.2f}ms p99={r['p99']:.2f}ms cpu={r['cpu']:.1f}ms/1k non2xx={r['non2xx']}{extra}", flush=True)
                if cmd == "/help" and replicas:
                    r = measure_replicas(args, cmd, f"{int(time.time())}{rnd}p")
                    results.setdefault((cmd, "replicas"), []).append(r)
                    print(f"  round {rnd + 1} {cmd:6} {'2 on pg':8} callbacks/s={r['rate']:9.0f} replies/s={r['replies']:9.0f} "
                          f"p99={r['p99']:.2f}ms", flush=True)
                if cmd == "/help":
                    r = measure_stream(args, gateway, cmd, f"{int(time.time())}{rnd}s", stream_qunguan.pid)
                    results.setdefault((cmd, "stream"), []).append(r)
                    print(f"  round {rnd + 1} {cmd:6} {'stream':8} frames/s={r['rate']:12.0f} replies/s={r['replies']:9.0f} cpu={r['cpu']:.1f}ms/1k", flush=True)
                    r = measure_events(args, gateway, f"{int(time.time())}{rnd}e", stream_qunguan.pid)
                    results.setdefault(("events", "stream"), []).append(r)
                    print(f"  round {rnd + 1} {'events':6} {'stream':8} handled/s={r['rate']:11.0f} cpu={r['cpu']:.1f}ms/1k", flush=True)
        print()
        print(f"{'path':8}{'callbacks/s q / floor':>26}{'replies/s q / floor':>26}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'CPU ms/1k replies q / floor':>30}{'ratio':>7}{'owed':>6}{'tokens':>8}")
        for cmd in args.commands.split(","):
            q, f = results[(cmd, "qunguan")], results[(cmd, "floor")]
            avg = lambda rs, k: sum(r[k] for r in rs) / len(rs)
            ratio = avg(q, "replies") / avg(f, "replies")
            print(f"{cmd:8}{avg(q, 'rate'):>14.0f} / {avg(f, 'rate'):<9.0f}{avg(q, 'replies'):>14.0f} / {avg(f, 'replies'):<9.0f}"
                  f"{ratio:>8.2f}{max(r['p50'] for r in q):>9.2f}{max(r['p99'] for r in q):>9.2f}"
                  f"{avg(q, 'cpu'):>21.1f} / {avg(f, 'cpu'):<6.1f}{avg(q, 'cpu') / avg(f, 'cpu'):>7.2f}"
                  f"{max(r['owed'] for r in q):>6}{sum(r['tokens'] for r in q):>8}")
        if ("/help", "stream") in results:
            avg = lambda rs, k: sum(r[k] for r in rs) / len(rs)
            s, h, f = results[("/help", "stream")], results[("/help", "qunguan")], results[("/help", "floor")]
            print(f"/help over Stream: {avg(s, 'replies'):.0f} replies/s ({avg(s, 'rate'):.0f} frames/s acknowledged); "
                  f"over HTTP {avg(h, 'replies'):.0f}: Stream / HTTP = {avg(s, 'replies') / avg(h, 'replies'):.2f}, "
                  f"Stream / floor = {avg(s, 'replies') / avg(f, 'replies'):.2f}")
        if ("events", "stream") in results:
            avg = lambda rs, k: sum(r[k] for r in rs) / len(rs)
            e, s = results[("events", "stream")], results[("/help", "stream")]
            print(f"group events over Stream: {avg(e, 'rate'):.0f} handled/s (bound groups renamed: audited, "
                  f"cache dropped, acknowledged once written) against {avg(s, 'rate'):.0f} robot messages/s "
                  f"acknowledged: events / messages = {avg(e, 'rate') / avg(s, 'rate'):.2f}; CPU ms per 1k: "
                  f"{avg(e, 'cpu'):.1f} an event, {avg(s, 'cpu'):.1f} a message and its reply")
        if ("/help", "replicas") in results:
            avg = lambda rs, k: sum(r[k] for r in rs) / len(rs)
            p, f = results[("/help", "replicas")], results[("/help", "floor")]
            rss = ", ".join(f"{rss_kib(r.pid, 'VmHWM') / 1024:.1f}" for r in replicas)
            print(f"/help on two replicas sharing PostgreSQL: {avg(p, 'replies'):.0f} replies/s, "
                  f"{avg(p, 'replies') / avg(f, 'replies'):.2f} x the floor; ack p99 {max(r['p99'] for r in p):.2f} ms; "
                  f"peak RSS {rss} MiB")
        print(f"qunguan RSS: idle {idle / 1024:.1f} MiB, peak {rss_kib(qunguan.pid, 'VmHWM') / 1024:.1f} MiB; "
              f"Stream-mode qunguan peak {rss_kib(stream_qunguan.pid, 'VmHWM') / 1024:.1f} MiB")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["nginx", "-c", f"{args.shared}/nginx-fake-upstream.conf", "-s", "stop"], capture_output=True)


if __name__ == "__main__":
    main()
