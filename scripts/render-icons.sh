#!/bin/sh
# Renders packaging/icons/holdfast.svg to the PNG sizes of the hicolor theme (committed, so the
# build needs no SVG renderer). Needs rsvg-convert: apt-get install -y librsvg2-bin
set -eu
cd "$(dirname "$0")/../packaging/icons"
for size in 16 24 32 48 64 128 256 512; do
    rsvg-convert -w "$size" -h "$size" holdfast.svg -o "holdfast-$size.png"
done
