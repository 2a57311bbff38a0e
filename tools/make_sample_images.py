#!/usr/bin/env python3
"""Draws the demo's sample pictures (shared/*/*.jpg) once; they are committed, this only records how.
Pure Python writes a PPM, cjpeg (Debian: libjpeg-turbo-progs) makes the JPEG.
Usage: tools/make_sample_images.py OUTDIR   -> OUTDIR/SkyShip.jpg, Lighthouse.jpg, Mountains.jpg"""

import math
import os
import random
import subprocess
import sys

W, H = 640, 400


def value_noise(seed, cells):
    """Fractal value noise in [0,1]: a few octaves of a smoothed random lattice."""
    rnd = random.Random(seed)
    octaves = []
    for o in range(4):
        n = cells * (2 ** o)
        grid = [[rnd.random() for _ in range(n)] for _ in range(n)]
        octaves.append((n, grid, 0.5 ** o))
    total = sum(a for _, _, a in octaves)

    def at(x, y):  # tiles with period 1 in x and y
        v = 0.0
        for n, g, a in octaves:
            fx, fy = x * n, y * n
            ix, iy = math.floor(fx), math.floor(fy)
            tx, ty = fx - ix, fy - iy
            tx, ty = tx * tx * (3 - 2 * tx), ty * ty * (3 - 2 * ty)
            x0, x1, y0, y1 = ix % n, (ix + 1) % n, iy % n, (iy + 1) % n
            top = g[y0][x0] * (1 - tx) + g[y0][x1] * tx
            bot = g[y1][x0] * (1 - tx) + g[y1][x1] * tx
            v += a * (top * (1 - ty) + bot * ty)
        return v / total
    return at


def mix(c1, c2, t):
    t = min(1.0, max(0.0, t))
    return tuple(a + (b - a) * t for a, b in zip(c1, c2))


def sky_ship(x, y, clouds):
    u, v = x / W, y / H
    c = mix((40, 90, 180), (170, 210, 240), v)                      # sky, darker on top
    cl = clouds(u * 1.6, v)
    c = mix(c, (250, 250, 255), (cl - 0.5) * 3.0)                    # clouds
    # the airship: an ellipse hull, a gondola and two fins
    ex, ey = (x - 330) / 170.0, (y - 170) / 55.0
    if ex * ex + ey * ey <= 1.0:
        shade = 0.55 + 0.45 * (1 - (ey + 1) / 2)
        c = mix((60, 40, 30), (200, 120, 60), shade)
        if abs(x - 330) % 40 < 2:
            c = mix(c, (70, 40, 20), 0.6)                            # hull ribs
    if 290 <= x <= 370 and 222 <= y <= 245:
        c = (90, 60, 40) if not (300 <= x <= 360 and 228 <= y <= 236) else (250, 220, 120)
    if 150 <= x <= 190 and abs(y - 170) <= (190 - x) * 1.2:
        c = (150, 70, 40)
    return c


def lighthouse(x, y, noise):
    u, v = x / W, y / H
    c = mix((20, 30, 70), (240, 140, 80), v * 1.3)                  # dusk
    horizon = 270 + 10 * noise(u, 0.3)
    if y > horizon:                                                  # sea
        c = mix((30, 60, 100), (10, 25, 50), (y - horizon) / 130) 
        c = mix(c, (230, 160, 90), (noise(u * 0.9, v) - 0.55) * 2.5)
    if y > 300 and x < 260 + 40 * noise(v, 0.7):                     # rocks
        c = mix((50, 45, 40), (90, 80, 70), noise(u * 3, v))
    half = 18 + (y - 120) * 0.06
    if 120 <= y <= 310 and abs(x - 170) <= half:                     # tower, striped
        c = (235, 235, 225) if ((y - 120) // 30) % 2 == 0 else (190, 40, 40)
    if 95 <= y < 120 and abs(x - 170) <= 16:
        c = (255, 240, 150)                                          # lamp
    dx, dy = x - 170, y - 107
    if dx > 0 and abs(dy) < dx * 0.18 and dx < 460:
        c = mix(c, (255, 245, 190), 0.45 * (1 - dx / 460))           # beam
    return c


def mountains(x, y, noise):
    u, v = x / W, y / H
    c = mix((120, 170, 230), (230, 235, 240), v * 1.5)
    ridge1 = 170 - 260 * (noise(u * 0.7, 0.1) - 0.5) - 50 * abs(math.sin(u * 9))
    ridge2 = 250 + 90 * (noise(u * 0.8 + 0.1, 0.6) - 0.5)
    if y > ridge1:
        snow = y < 150 + 15 * noise(u * 2, 0.9)
        c = (245, 245, 250) if snow else mix((90, 100, 130), (60, 70, 90), (y - ridge1) / 200)
    if y > ridge2:
        c = mix((50, 110, 60), (20, 60, 30), (y - ridge2) / 150)
        c = mix(c, (30, 50, 25), (noise(u * 4, v * 2) - 0.5) * 2)
    if y > 360:
        c = mix(c, (70, 130, 170), 0.7)                              # lake
    return c


def render(path, shade, seed, quality):
    noise = value_noise(seed, 6)
    rows = bytearray()
    for y in range(H):
        for x in range(W):
            r, g, b = shade(x, y, noise)
            rows += bytes((int(r), int(g), int(b)))
    ppm = path + '.ppm'
    with open(ppm, 'wb') as f:
        f.write(b'P6\n%d %d\n255\n' % (W, H) + rows)
    with open(path, 'wb') as out:
        subprocess.run(['cjpeg', '-quality', str(quality), '-optimize', ppm], stdout=out, check=True)
    os.remove(ppm)
    print(path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    render(os.path.join(out, 'SkyShip.jpg'), sky_ship, 7, 92)
    render(os.path.join(out, 'Lighthouse.jpg'), lighthouse, 11, 85)
    render(os.path.join(out, 'Mountains.jpg'), mountains, 3, 85)
