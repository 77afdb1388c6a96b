#!/usr/bin/env bash
# Whole-process comparison of saving rows through the plugin with the anchor
# workloads of ../shared/bench (libvips, Pillow), paired runs with hyperfine,
# and peak memory with GNU time. Writes bench/results.md.
#
#   bash bench/run.sh [SRC_DIR]        (default ../shared/testdata/photos)
#
# Needs: apt-get install -y hyperfine libvips-tools python3-pil time libturbojpeg0-dev
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(realpath "${1:-../shared/testdata/photos}")
shared=$(realpath ../shared/bench)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/save" ./bench/save
go build -tags turbojpeg -o "$work/save-turbo" ./bench/save
go_cmd="$work/save $src $work/out/go"
turbo_cmd="$work/save-turbo $src $work/out/turbo"
vips_cmd="sh $shared/vips_thumbs.sh $src $work/out/vips"
pil_cmd="/usr/bin/python3 $shared/pillow_thumbs.py dt $src $work/out/pil"
draft_cmd="/usr/bin/python3 $shared/pillow_thumbs.py draft $src $work/out/draft"

hyperfine --style basic -w 2 -r 10 --prepare "rm -rf $work/out" --export-json "$work/times.json" \
	-n go "$go_cmd" -n go-turbojpeg "$turbo_cmd" -n libvips "$vips_cmd" -n pillow-dt "$pil_cmd" -n pillow-draft "$draft_cmd" 2>/dev/null >"$work/hyperfine.txt"

for name in go go-turbojpeg libvips pillow-dt pillow-draft; do
	case $name in
	go) cmd=$go_cmd ;; go-turbojpeg) cmd=$turbo_cmd ;; libvips) cmd=$vips_cmd ;; pillow-dt) cmd=$pil_cmd ;; pillow-draft) cmd=$draft_cmd ;;
	esac
	rm -rf "$work/out"
	/usr/bin/time -f "%M" -o "$work/mem-$name" sh -c "$cmd" >/dev/null 2>&1
done

python3 - "$work" "$src" >bench/results.md <<'PY'
import json, os, statistics, sys, platform, datetime, subprocess
work, src = sys.argv[1], sys.argv[2]
res = {r["command"]: r for r in json.load(open(os.path.join(work, "times.json")))["results"]}
med = {k: statistics.median(v["times"]) for k, v in res.items()}
mem = {k: int(open(os.path.join(work, "mem-" + k)).read().split()[-1]) / 1024 for k in res}
photos = len([f for f in os.listdir(src) if f.endswith(".jpg")])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Saving {photos} photos of {src} (small = fill 100x100, medium = fit 400x400, large = fit 1200x1200, JPEG q85),")
print(f"whole processes, {len(res['go']['times'])} paired runs each (hyperfine, 2 warm-ups), medians.")
print(f"Machine: {os.cpu_count()} cores, {cpu}; {datetime.date.today()}; {subprocess.run(['go','version'],capture_output=True,text=True).stdout.strip()}.")
print()
print("| command | median | vs libvips | vs Pillow dt | peak RSS |")
print("|---|---|---|---|---|")
for k in ["go", "go-turbojpeg", "libvips", "pillow-dt", "pillow-draft"]:
    print(f"| {k} | {med[k]*1000:.0f} ms | {med[k]/med['libvips']:.2f}x | {med[k]/med['pillow-dt']:.2f}x | {mem[k]:.0f} MiB |")
PY
cat bench/results.md
