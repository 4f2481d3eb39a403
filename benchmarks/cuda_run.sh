#!/usr/bin/env bash
# Everything a CUDA machine checks, in one call of about 8 minutes on an H100:
# versions and compute capability, the non-slow test suite with CUDA present,
# tests/_training/test_cuda_graph.py (its CUDA tests run there), benchmarks/cuda_checks.py,
# benchmarks/gpu.py, one fit over torchrun's processes with NCCL (one per GPU) and
# benchmarks/distributed.py's GPU arms. Logs go to $OUT (default: cuda-logs/); a summary
# comes last.
#
# Run from the repository root:  bash benchmarks/cuda_run.sh
# Check it on the CPU:           bash benchmarks/cuda_run.sh --quick
#
# Where the machine lacks skorch or mlxtend, put their wheels in .whl/ first
# (pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl
# skorch==1.4.0 mlxtend==0.25.0): they are installed to /tmp/site and used from there.
set -u
cd "$(dirname "$0")/.."
out="${OUT:-cuda-logs}"
mkdir -p "$out"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

export PYTHONPATH="$PWD"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install --quiet --no-index --no-deps --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD"
fi

python3 - <<'EOF' 2>&1 | tee "$out/versions.log"
import platform, skorch, sklearn, torch, torchvision
line = f"Python {platform.python_version()}, torch {torch.__version__}, torchvision " \
       f"{torchvision.__version__}, skorch {skorch.__version__}, scikit-learn {sklearn.__version__}"
if torch.cuda.is_available():
    major, minor = torch.cuda.get_device_capability()
    line += f"; {torch.cuda.get_device_name()}, compute capability {major}.{minor}, " \
            f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
else:
    line += "; no GPU"
print(line)
EOF

run() {  # run NAME SECONDS COMMAND...: log to $out/NAME.log, keep its last line
  local name=$1 seconds=$2; shift 2
  echo "== $name: $*" | tee -a "$out/summary.log"
  timeout "$seconds" "$@" > "$out/$name.log" 2>&1
  echo "   exit $? | $(grep -v '^\s*$' "$out/$name.log" | tail -1)" | tee -a "$out/summary.log"
}

: > "$out/summary.log"
if [ "$quick" = 1 ]; then
  run test_graphs 300 python3 -m pytest -q -p no:cacheprovider -rs tests/_training/test_cuda_graph.py
  run cuda_checks 300 python3 benchmarks/cuda_checks.py --device cpu --quick
  run gpu 300 python3 benchmarks/gpu.py --device cpu --quick
  DATA_PARALLEL_DEVICE=cpu run ddp_worker 300 python3 -m torch.distributed.run --standalone \
    --nproc_per_node 1 tests/_training/data_parallel_worker.py "$out/ddp" "$out/ddp-images"
  run distributed 300 python3 benchmarks/distributed.py --cpu-only --runs 1 --images 300 \
    --epochs 2
else
  run pytest 170 python3 -m pytest -m "not slow" -n 8 -q -p no:cacheprovider
  run test_graphs 40 python3 -m pytest -q -p no:cacheprovider -rs tests/_training/test_cuda_graph.py
  run cuda_checks 150 python3 benchmarks/cuda_checks.py
  run gpu 120 python3 benchmarks/gpu.py --runs 2 --epochs 2
  # One fit over torchrun's processes, NCCL, one GPU each (1 process: the same path).
  DATA_PARALLEL_DEVICE=cuda run ddp_worker 90 python3 -m torch.distributed.run --standalone \
    --nproc_per_node "$(python3 -c 'import torch; print(torch.cuda.device_count())')" \
    tests/_training/data_parallel_worker.py "$out/ddp" "$out/ddp-images"
  run distributed 150 python3 benchmarks/distributed.py --gpu-only --runs 1 --epochs 3 \
    --gpu-images 30000
fi

echo
cat "$out/versions.log"
grep -h -A80 "^1\. cuda_graphs" "$out/cuda_checks.log"
grep -h -A100 "best raw variant" "$out/gpu.log"
grep -h "^GPU\|^CPU" "$out/distributed.log"
cat "$out/summary.log"
