"""Hand-made SimpleITK volumes with known geometry, tumours and misalignment, for the tests
and the benchmark of the preprocessing pipeline (no demo cohort needed)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def image_from_array(array: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
    """z-y-x ``array`` -> SimpleITK image with the given x-y-z spacing and origin."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetOrigin(tuple(float(o) for o in origin))
    return image


def phantom(phase: str, size=(96, 96, 40), spacing=(1.5, 1.5, 2.5), seed: int = 0):
    """(CT, tumour mask) of an abdomen-like scene: body, liver, tumour, spine, vessels.

    The phases differ in contrast (arterial: bright tumour and aorta; portal: bright liver and
    portal vein), as in two-phase CT, so registration needs mutual information.
    """
    nx, ny, nz = size
    origin = tuple(-(n - 1) / 2 * s for n, s in zip(size, spacing))
    z, y, x = np.meshgrid(
        *(o + np.arange(n) * s for n, s, o in zip(size[::-1], spacing[::-1], origin[::-1])),
        indexing="ij",
    )
    hu = np.full(x.shape, -1000.0)
    body = (x / 65) ** 2 + (y / 50) ** 2 <= 1
    liver = ((x + 15) / 40) ** 2 + ((y + 5) / 30) ** 2 + (z / 40) ** 2 <= 1
    tumour = ((x + 20) / 11) ** 2 + ((y + 8) / 9) ** 2 + ((z - 4) / 10) ** 2 <= 1
    spine = (x / 9) ** 2 + ((y - 32) / 9) ** 2 <= 1
    aorta = ((x - 14) / 6) ** 2 + ((y - 20) / 6) ** 2 <= 1
    portal_vein = ((x + 5) / 5) ** 2 + ((y - 8) / 4) ** 2 + (z / 30) ** 2 <= 1
    kidney = ((x - 35) / 10) ** 2 + ((y - 18) / 14) ** 2 + ((z + 10) / 18) ** 2 <= 1
    arterial = phase == "arterial"
    hu[body] = 30
    hu[liver] = 60 if arterial else 110
    hu[kidney] = 180 if arterial else 150
    hu[portal_vein] = 90 if arterial else 200
    hu[tumour] = 130 if arterial else 70
    hu[aorta] = 300 if arterial else 150
    hu[spine] = 700
    rng = np.random.default_rng(seed)
    hu += rng.normal(0, 8, hu.shape)
    ct = image_from_array(hu.astype(np.float32), spacing, origin)
    mask = image_from_array(tumour.astype(np.uint8), spacing, origin)
    return ct, mask


def misaligned_pair(transform: sitk.Transform, **kwargs):
    """Arterial (CT, mask) and portal (CT, mask) with ``portal(T(x)) = arterial scene(x)``:
    ``transform`` maps arterial points onto portal points (the ITK fixed -> moving convention)."""
    a_ct, a_mask = phantom("arterial", **kwargs)
    # the portal scene is drawn on a larger field of view, so that no artificial image edge
    # moves into the field of view with the transform
    size = kwargs.get("size", (96, 96, 40))
    big = tuple(n + 2 * (16 if n > 16 else 4) for n in size)
    p_ct, p_mask = phantom("portal", **{**kwargs, "size": big, "seed": 1})
    inverse = transform.GetInverse()
    p_ct = sitk.Resample(p_ct, a_ct, inverse, sitk.sitkLinear, -1000.0, sitk.sitkFloat32)
    p_mask = sitk.Resample(p_mask, a_mask, inverse, sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return (a_ct, a_mask), (p_ct, p_mask)


def euler(angles_deg=(3.0, -2.0, 4.0), translation_mm=(4.0, -3.0, 2.5), center=(0.0, 0.0, 0.0)):
    t = sitk.Euler3DTransform()
    t.SetCenter(center)
    t.SetRotation(*np.radians(angles_deg))
    t.SetTranslation(translation_mm)
    return t
