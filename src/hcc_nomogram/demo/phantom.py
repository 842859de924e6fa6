"""Two-phase contrast CT phantom of one patient, with three tumour delineations per phase.

Geometry is analytic: the scene (body, fat, spine, aorta, IVC, spleen, liver, portal vein,
index tumour, satellite nodules) is defined in the *arterial* frame in millimetres (LPS, as
ITK), and every voxel is evaluated at its physical position. The portal-venous phase samples
the same scene at ``T^-1(q)`` for each voxel ``q``, where ``T`` is the true rigid transform
stored in the ground truth (``sitk.Euler3DTransform`` mapping arterial points to portal
points, i.e. what a registration with fixed = arterial, moving = portal should recover).

Enhancement: the tumour is hyper-enhancing in the arterial phase with a mottled texture
whose amplitude is the patient's ``heterogeneity``, washes out in the portal phase (with an
enhancing capsule), and has a hypodense non-enhancing necrotic core occupying
``necrotic_fraction`` of its volume. Only the index (largest) tumour is delineated; its
largest in-plane diameter is ``tumor_size_cm``. Readers differ by scale, shift and
boundary jitter. All randomness comes from ``default_rng([seed, 1, image_seed])``, so each
patient renders identically, in any order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from hcc_nomogram.demo.config import CenterConfig, DemoCohortConfig
from hcc_nomogram.errors import InputDataError

PHASES = ("arterial", "portal")
DELINEATIONS = ("r1a", "r1b", "r2")

# Mean attenuation (HU) per tissue: (arterial, portal-venous).
HU = {
    "air": (-1000.0, -1000.0),
    "fat": (-100.0, -100.0),
    "wall": (45.0, 55.0),
    "viscera": (30.0, 45.0),
    "bone": (420.0, 420.0),
    "marrow": (220.0, 220.0),
    "aorta": (280.0, 150.0),
    "ivc": (70.0, 140.0),
    "spleen": (130.0, 120.0),
    "liver": (70.0, 115.0),
    "portal_vein": (120.0, 190.0),
    "thrombus": (45.0, 60.0),
    "necrosis": (15.0, 20.0),
}


def true_transform(patient: Mapping[str, Any]) -> sitk.Euler3DTransform:
    """The true rigid transform of one patient (arterial point -> portal point), from the
    ground-truth columns ``transform_*``."""
    t = sitk.Euler3DTransform()
    t.SetCenter([float(patient[f"transform_center_{a}_mm"]) for a in "xyz"])
    t.SetRotation(*(float(patient[f"transform_angle_{a}_rad"]) for a in "xyz"))
    t.SetTranslation([float(patient[f"transform_translation_{a}_mm"]) for a in "xyz"])
    return t


def image_grid(config: DemoCohortConfig, center: CenterConfig) -> tuple[tuple, tuple, tuple]:
    """(size xyz, spacing xyz mm, origin xyz mm) of the CTs of one center; centred at 0."""
    vol = config.volume
    nz = max(8, int(round(vol.z_extent_mm / center.slice_thickness_mm)))
    size = (vol.size_xy, vol.size_xy, nz)
    spacing = (vol.spacing_xy_mm, vol.spacing_xy_mm, center.slice_thickness_mm)
    origin = tuple(-(n - 1) / 2 * s for n, s in zip(size, spacing))
    return size, spacing, origin


@dataclass(frozen=True)
class _Lesion:
    """An ellipsoid with a lobulated boundary, rotated about z by ``theta``."""

    center: np.ndarray  # mm
    semi: np.ndarray  # (a, b, c) mm
    theta: float
    lobes: np.ndarray  # (k, amplitude, phase) rows; boundary radius *= 1 + sum(a cos(k phi + p))

    def local(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates (u, v, w) in the lesion's frame, mm (float32)."""
        cx, cy, cz = (np.float32(c) for c in self.center)
        dx, dy = pts[:, 0] - cx, pts[:, 1] - cy
        c, s = np.float32(np.cos(self.theta)), np.float32(np.sin(self.theta))
        return c * dx + s * dy, c * dy - s * dx, pts[:, 2] - cz

    def rho(self, pts: np.ndarray, extra_lobes: np.ndarray | None = None) -> np.ndarray:
        """Normalised radius: <= 1 inside the lesion."""
        u, v, w = self.local(pts)
        u /= np.float32(self.semi[0])
        v /= np.float32(self.semi[1])
        w /= np.float32(self.semi[2])
        r = np.sqrt(u * u + v * v + w * w) + np.float32(1e-6)
        phi = np.arctan2(v, u)
        lobes = self.lobes if extra_lobes is None else np.vstack([self.lobes, extra_lobes])
        bump = np.ones_like(r)
        for k, amp, phase in lobes:
            if k > 0:
                bump += np.float32(amp) * np.cos(np.float32(k) * phi + np.float32(phase))
            else:  # k == 0 rows modulate along the cranio-caudal direction
                bump += np.float32(amp) * np.cos(
                    np.float32(2 * np.pi) * (w / r) + np.float32(phase)
                )
        return r / bump

    def bound(self) -> float:
        return float(self.semi.max() * (1 + np.abs(self.lobes[:, 1]).sum()) * 1.15 + 3.0)


def _lobes(rng: np.random.Generator, ks: tuple[int, ...], total: float) -> np.ndarray:
    amps = rng.dirichlet(np.ones(len(ks))) * total
    return np.column_stack([np.array(ks, float), amps, rng.uniform(0, 2 * np.pi, len(ks))])


class _Scene:
    """All random draws of one patient, made once in a fixed order."""

    def __init__(self, patient: Mapping[str, Any], config: DemoCohortConfig):
        rng = np.random.default_rng([config.seed, 1, int(patient["image_seed"])])
        self.rng = rng
        half_fov = config.volume.size_xy * config.volume.spacing_xy_mm / 2
        self.body = (min(rng.uniform(106, 116), half_fov - 3), rng.uniform(80, 92))
        self.fat = rng.uniform(8, 18)
        self.spine = np.array([rng.normal(5, 2), rng.normal(58, 2)])
        self.aorta = np.array([rng.normal(16, 2), rng.normal(30, 2)])
        self.ivc = np.array([rng.normal(-24, 2), rng.normal(24, 2)])
        self.spleen = _Lesion(
            np.array([rng.normal(66, 3), rng.normal(32, 3), rng.normal(12, 4)]),
            np.array([rng.uniform(24, 32), rng.uniform(18, 24), rng.uniform(35, 45)]),
            rng.uniform(-0.6, 0.0),
            _lobes(rng, (2, 3), 0.06),
        )
        liver_c = np.array([float(patient[f"liver_center_{a}_mm"]) for a in "xyz"])
        sx = float(patient["liver_semi_x_mm"])
        self.liver = _Lesion(
            liver_c, np.array([sx, 0.82 * sx, rng.uniform(68, 78)]), rng.uniform(-0.25, 0.15),
            _lobes(rng, (2, 3, 0), 0.10),
        )  # fmt: skip
        # Portal vein: from the hilum (medial side of the liver) into the liver.
        start = liver_c + np.array([0.55 * sx, 14.0, -10.0])
        direction = np.array([-1.0, rng.uniform(-0.3, 0.1), rng.uniform(0.2, 0.5)])
        self.pv = (start, direction / np.linalg.norm(direction), 0.75 * sx, rng.uniform(6, 8))
        self.pvi = str(patient["portal_vein_invasion"])

        a = float(patient["tumor_size_cm"]) * 5.0
        tumor_c = np.array([float(patient[f"tumor_center_{ax}_mm"]) for ax in "xyz"])
        self.tumor = _Lesion(
            tumor_c, np.array([a, a * rng.uniform(0.75, 0.95), a * rng.uniform(0.7, 0.95)]),
            rng.uniform(0, np.pi), _lobes(rng, (3, 5), 0.035),
        )  # fmt: skip
        self.necrotic_fraction = float(patient["necrotic_fraction"])
        self.heterogeneity = float(patient["heterogeneity"])
        self.necrosis = _Lesion(
            tumor_c + self.tumor.semi * rng.uniform(-0.08, 0.08, 3),
            self.tumor.semi * max(self.necrotic_fraction, 1e-6) ** (1 / 3),
            self.tumor.theta, _lobes(rng, (2, 3, 4), 0.14),
        )  # fmt: skip
        self.tumor_enh = (rng.uniform(35, 55), -rng.uniform(20, 35))  # vs liver, per phase
        # Mottled texture: smoothed noise on a 2 mm grid in the tumour's local frame.
        self.tex_step = 2.0
        n_tex = int(np.ceil(2 * self.tumor.bound() / self.tex_step)) + 2
        noise = rng.standard_normal((2, n_tex, n_tex, n_tex), np.float32)
        tex = ndimage.gaussian_filter(noise[0], 1.0, mode="wrap")
        self.texture = (tex / tex.std()).astype(np.float32)
        necro_tex = ndimage.gaussian_filter(noise[1], 2.0, mode="wrap")
        self.necro_texture = (necro_tex / necro_tex.std()).astype(np.float32)

        # Satellite nodules (image only, not delineated), away from the index tumour.
        self.satellites = []
        for _ in range(min(int(patient["nodule_count"]) - 1, 5)):
            for _try in range(20):
                offset = rng.uniform(-0.75, 0.75, 3) * self.liver.semi
                if int(patient["bilobar"]) == 0:
                    offset[0] = np.sign(tumor_c[0] - liver_c[0] + 1e-9) * abs(offset[0])
                c = liver_c + offset
                r = rng.uniform(5, 12)
                if np.linalg.norm((c - tumor_c) / (self.tumor.semi + r + 4)) > 1.2:
                    self.satellites.append(
                        _Lesion(c, np.array([r, r * 0.9, r * 0.85]), 0.0, _lobes(rng, (3,), 0.04))
                    )
                    break

        # Readers: (scale xyz, shift mm, extra lobes) per phase and delineation.
        self.readers = {}
        for phase in PHASES:
            for read in DELINEATIONS:
                bias = 1.05 if read == "r2" else 1.0
                scale = bias * np.array([*rng.normal(1.0, 0.025, 2), rng.normal(1.0, 0.04)])
                sd = min(0.8, 0.05 * a)  # small lesions: readers click closer together
                shift = np.array([*rng.normal(0, sd, 2), rng.normal(0, 1.25 * sd)])
                self.readers[phase, read] = (scale, shift, _lobes(rng, (4, 6, 7), 0.06))

    def texture_at(self, field: np.ndarray, pts: np.ndarray) -> np.ndarray:
        half = np.float32((field.shape[0] - 1) / 2)
        idx = np.stack([c / np.float32(self.tex_step) + half for c in self.tumor.local(pts)])
        return ndimage.map_coordinates(field, idx, order=1, mode="nearest")


class _Frame:
    """The voxel grid of one phase, mapped into the scene frame by ``scene = A @ image + b``."""

    def __init__(self, size, spacing, origin, matrix: np.ndarray, offset: np.ndarray):
        self.shape = (size[2], size[1], size[0])
        self.axes = [np.float32(o) + np.float32(s) * np.arange(n, dtype=np.float32)
                     for n, s, o in zip(size, spacing, origin)]  # fmt: skip
        self.spacing = np.asarray(spacing, float)
        self.origin = np.asarray(origin, float)
        self.matrix = matrix.astype(np.float32)
        self.offset = offset.astype(np.float32)
        self.inverse = np.linalg.inv(matrix)

    def scene_xy(self, sl=(slice(None),) * 3) -> tuple[np.ndarray, np.ndarray]:
        """Scene x and y (3-D arrays) of the voxels in block ``sl`` (z, y, x slices)."""
        x = self.axes[0][sl[2]][None, None, :]
        y = self.axes[1][sl[1]][None, :, None]
        z = self.axes[2][sl[0]][:, None, None]
        m, b = self.matrix, self.offset
        return (m[0, 0] * x + m[0, 1] * y + m[0, 2] * z + b[0],
                m[1, 0] * x + m[1, 1] * y + m[1, 2] * z + b[1])  # fmt: skip

    def block(self, center: np.ndarray, radius: float) -> tuple[tuple, np.ndarray]:
        """Slices of the voxel block holding a scene-frame ball, and its scene points (M, 3)."""
        ci = self.inverse @ (np.asarray(center, float) - self.offset)
        lo = np.floor((ci - radius - self.origin) / self.spacing).astype(int)
        hi = np.ceil((ci + radius - self.origin) / self.spacing).astype(int) + 1
        n = np.array(self.shape[::-1])
        lo, hi = np.clip(lo, 0, n), np.clip(hi, 0, n)
        sl = tuple(slice(lo[i], hi[i]) for i in (2, 1, 0))
        x = self.axes[0][sl[2]][None, None, :]
        y = self.axes[1][sl[1]][None, :, None]
        z = self.axes[2][sl[0]][:, None, None]
        m, b = self.matrix, self.offset
        pts = [np.broadcast_to(m[i, 0] * x + m[i, 1] * y + m[i, 2] * z + b[i],
                               (z.shape[0], y.shape[1], x.shape[2])).ravel()
               for i in range(3)]  # fmt: skip
        return sl, np.stack(pts, axis=1)


def _paint(out: np.ndarray, sl: tuple, inside: np.ndarray, values) -> None:
    view = out[sl]
    inside = inside.reshape(view.shape)
    view[inside] = values if np.isscalar(values) else np.asarray(values).reshape(view.shape)[inside]


def _render_phase(scene: _Scene, frame: _Frame, phase: str) -> tuple[np.ndarray, dict]:
    """Noise-free HU on the grid of ``frame`` and the three delineation masks."""
    p = PHASES.index(phase)
    out = _render_anatomy(scene, frame, p)
    tumor = _paint_tumor(out, scene, frame, p)
    return out, _reader_masks(scene, frame, phase, tumor)


def _render_anatomy(scene: _Scene, frame: _Frame, p: int) -> np.ndarray:
    """HU of phase ``p`` without the index tumor: body, organs, portal vein, satellites."""
    x, y = frame.scene_xy()
    bx, by = scene.body
    out = np.full(frame.shape, HU["air"][p], np.float32)
    out[(x / bx) ** 2 + (y / by) ** 2 <= 1] = HU["fat"][p]
    out[(x / (bx - scene.fat)) ** 2 + (y / (by - scene.fat)) ** 2 <= 1] = HU["wall"][p]
    cavity = (x / (bx - scene.fat - 9)) ** 2 + (y / (by - scene.fat - 9)) ** 2 <= 1
    out[cavity] = HU["viscera"][p]
    d_spine = (x - scene.spine[0]) ** 2 + (y - scene.spine[1]) ** 2
    out[d_spine <= 17**2] = HU["bone"][p]
    out[d_spine <= 13**2] = HU["marrow"][p]
    out[(x - scene.aorta[0]) ** 2 + (y - scene.aorta[1]) ** 2 <= 11**2] = HU["aorta"][p]
    for organ in ("spleen", "liver"):
        lesion = getattr(scene, organ)
        sl, pts = frame.block(lesion.center, lesion.bound())
        _paint(out, sl, lesion.rho(pts) <= 1, HU[organ][p])
    out[(x - scene.ivc[0]) ** 2 + (y - scene.ivc[1]) ** 2 <= 10**2] = HU["ivc"][p]
    # Portal vein segment (with tumour thrombus for Vp1-2 / Vp3-4 invasion).
    start, direction, length, radius = scene.pv
    sl, pts = frame.block(start + direction * length / 2, length / 2 + radius + 1)
    rel = pts - start.astype(np.float32)
    t = rel @ direction.astype(np.float32)
    in_pv = (t >= 0) & (t <= length) & ((rel**2).sum(axis=1) - t**2 <= radius**2)
    _paint(out, sl, in_pv, HU["portal_vein"][p])
    if scene.pvi != "none":
        lo, hi = (0.15, 0.75) if scene.pvi == "Vp3-4" else (0.6, 0.8)
        _paint(out, sl, in_pv & (t >= lo * length) & (t <= hi * length), HU["thrombus"][p])
    # Satellite nodules: same enhancement pattern, homogeneous, not delineated.
    for sat in scene.satellites:
        sl, pts = frame.block(sat.center, sat.bound())
        _paint(out, sl, sat.rho(pts) <= 1, HU["liver"][p] + scene.tumor_enh[p])
    return out


def _paint_tumor(out: np.ndarray, scene: _Scene, frame: _Frame, p: int) -> tuple:
    """Paint the index tumor of phase ``p`` into ``out``; return its block ``(sl, points,
    rho)`` (the reader masks are drawn on it)."""
    tumor = scene.tumor
    sl, tp = frame.block(tumor.center, tumor.bound() * 1.12)
    rho = tumor.rho(tp)
    inside = rho <= 1
    ti, rin = tp[inside], rho[inside]
    amp = 5.0 + 35.0 * scene.heterogeneity
    tex = scene.texture_at(scene.texture, ti)
    values = HU["liver"][p] + scene.tumor_enh[p] + (amp if p == 0 else 0.5 * amp) * tex
    if p == 1:  # enhancing capsule in the portal phase
        values = np.where(rin > 0.9, HU["liver"][p] + 15.0, values)
    if scene.necrotic_fraction > 0:
        necro = (scene.necrosis.rho(ti) <= 1) & (rin <= 0.92)
        ntex = scene.texture_at(scene.necro_texture, ti)
        values = np.where(necro, HU["necrosis"][p] + 5.0 * ntex, values)
    view = out[sl]
    view[inside.reshape(view.shape)] = values
    return sl, tp, rho


def _reader_masks(scene: _Scene, frame: _Frame, phase: str, block: tuple) -> dict:
    """The three readers' masks of the index tumor (``block``: its block from
    :func:`_paint_tumor`); only the band around the true boundary needs evaluating."""
    sl, tp, rho = block
    tumor = scene.tumor
    band = np.flatnonzero((rho > 0.45) & (rho < 1.7))
    masks = {}
    for read in DELINEATIONS:
        scale, shift, lobes = scene.readers[phase, read]
        reader = _Lesion(tumor.center + shift, tumor.semi * scale, tumor.theta, tumor.lobes)
        inside = rho <= 0.45
        inside[band] = reader.rho(tp[band], extra_lobes=lobes) <= 1
        m = np.zeros(frame.shape, np.uint8)
        _paint(m, sl, inside, 1)
        masks[read] = m
    return masks


def _noise_gain(sigma: float) -> float:
    """SD of white noise after a 2-D Gaussian filter of ``sigma`` voxels (unit input SD)."""
    delta = np.zeros(64)
    delta[32] = 1.0
    kernel = ndimage.gaussian_filter1d(delta, sigma)
    return float((kernel**2).sum())  # variance gain per axis; SD gain of two axes


def render_patient(patient: Mapping[str, Any], config: DemoCohortConfig) -> dict[str, sitk.Image]:
    """Both CT phases (int16 HU) and the six masks (uint8, 1 = index tumour) of one patient.

    Keys: ``arterial_ct, portal_ct, <phase>_mask_<r1a|r1b|r2>`` (the manifest column names).
    """
    centers = {c.name: c for c in config.centers}
    if patient["center"] not in centers:
        raise InputDataError(
            f"center {patient['center']!r} is not configured ({sorted(centers)}).",
            patient=patient.get("patient_id"),
            column="center",
            fix="generate the patient table and the images with the same demo_cohort config.",
        )
    center = centers[patient["center"]]
    size, spacing, origin = image_grid(config, center)
    scene = _Scene(patient, config)
    inverse = true_transform(patient).GetInverse()
    frames = {
        "arterial": _Frame(size, spacing, origin, np.eye(3), np.zeros(3)),
        "portal": _Frame(size, spacing, origin,
                         np.array(inverse.GetMatrix()).reshape(3, 3),
                         np.array(inverse.TransformPoint((0.0, 0.0, 0.0)))),
    }  # fmt: skip
    # In-plane blur of (scene + white noise): partial volume and correlated CT noise at once.
    sigma = 0.7
    gain = _noise_gain(sigma)
    out: dict[str, sitk.Image] = {}
    for phase in PHASES:
        clean, masks = _render_phase(scene, frames[phase], phase)
        white = scene.rng.standard_normal(clean.shape, np.float32)
        clean += np.float32(center.noise_sd_hu / gain) * white
        hu = ndimage.gaussian_filter(clean, (0, sigma, sigma)) + center.hu_offset
        arr = np.clip(np.round(hu), -1024, 3071).astype(np.int16)
        out[f"{phase}_ct"] = _to_image(arr, spacing, origin)
        for read, m in masks.items():
            out[f"{phase}_mask_{read}"] = _to_image(m, spacing, origin)
    return out


def _to_image(arr: np.ndarray, spacing, origin) -> sitk.Image:
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in origin))
    return image
