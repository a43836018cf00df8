#!/usr/bin/env bash
# Install what imtrans needs on a Debian machine: OCR data and fonts from Debian, Python
# packages into ./.venv. `--test` adds the test and local-model extras (torch, transformers).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng tesseract-ocr-jpn tesseract-ocr-jpn-vert
  tesseract-ocr-chi-sim fonts-noto-cjk fonts-nanum fonts-nanum-extra fonts-noto-core
  fortunes fortunes-zh manpages-ja mate-backgrounds
)
# Only for the tests and training (--test): translating an image needs none of these.
TEST_PACKAGES=(
  # the Korean recogniser's training lines (training/train_recognizer.py) draw every Korean face
  fonts-unfonts-core fonts-unfonts-extra fonts-baekmuk fonts-alee fonts-lexi-gulim fonts-lexi-saebom
  fonts-nanum-eco fonts-woowa-bm fonts-noto-cjk-extra fonts-dejavu-core
  chromium  # the web page's browser tests drive it through Playwright
)
[ "${1:-}" = "--test" ] && DEBIAN_PACKAGES+=("${TEST_PACKAGES[@]}")
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras}"
if [ -n "$extras" ]; then
  # onnx2torch (PP-OCRv6's recogniser into torch, training/train_recognizer.py) without its
  # dependencies: they would bring torchvision and, with it, a CUDA build of torch
  .venv/bin/python -m pip install -q --no-deps onnx2torch==1.5.15
fi
echo "imtrans installed in .venv ($(.venv/bin/imtrans --help >/dev/null && echo ok))"
