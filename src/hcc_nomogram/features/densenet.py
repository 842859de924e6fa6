"""Frozen ImageNet DenseNet-121 feature extractor and the provenance of its weights.

The extractor is Keras 3 ``DenseNet121(include_top=False, pooling="avg")``: a 224x224x3 input
gives 1024 globally average-pooled features, the mean over the 7x7 grid of the last
activation (layer ``"relu"``) of the network. The same model also exposes that 7x7x1024
activation, which :mod:`hcc_nomogram.features.cam` turns into class activation maps.

Weights come from one setting (:func:`resolve_weights`):

- ``"imagenet"``: Keras's standard no-top ImageNet file, taken from the Keras cache
  (``$KERAS_HOME/models`` or ``~/.keras/models``) or downloaded with a short timeout. When
  that fails, either an error says how to supply the file, or (``allow_random_fallback``)
  seeded random weights are used and labelled as such, loudly.
- a path to a Keras weights file (``.h5`` legacy Keras file or ``.weights.h5``): its MD5 is
  compared with the official file's; a file that does not fit DenseNet-121 is an error.
- ``"random"``: seeded random (Glorot) initialisation, a control and a test fixture only.

Whatever happens is recorded in :class:`WeightsProvenance`; ``weights_source`` is one of
``"imagenet"``, ``"local_file"`` and ``"random"`` and is carried by every feature table.

The single-channel z-scored crop becomes the 3-channel input in one of two ways
(:data:`INPUT_MODES`):

- ``"replicate"`` (default): the z-scored crop is copied into all three channels with no
  further scaling. Keras's DenseNet preprocessing ("torch" mode) maps ImageNet pixels to
  roughly zero mean and unit variance per channel, so a z-scored crop is already on that scale.
- ``"imagenet_pixels"``: the z-score is clipped to ``[-clip, clip]``, mapped linearly to the
  0-255 pixel range, copied into three channels and passed through
  ``keras.applications.densenet.preprocess_input`` (ImageNet per-channel mean/std).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import tempfile
import threading
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, StrictBool

from hcc_nomogram.errors import HccNomogramError, InputDataError
from hcc_nomogram.parameters import StrictModel, typed

logger = logging.getLogger(__name__)

ARCHITECTURE = "DenseNet121"
INPUT_SIZE = 224
N_FEATURES = 1024
FEATURE_MAP_SIZE = 7  # 224 / 32
LAST_ACTIVATION_LAYER = "relu"
NOTOP_FILENAME = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
NOTOP_URL = (
    f"https://storage.googleapis.com/tensorflow/keras-applications/densenet/{NOTOP_FILENAME}"
)
NOTOP_MD5 = "30ee3e1110167f948a6b9946edeeb738"
WEIGHT_SOURCES = ("imagenet", "local_file", "random")
INPUT_MODES = ("replicate", "imagenet_pixels")
PROVENANCE_SCHEMA_VERSION = 1


class WeightsUnavailableError(HccNomogramError, RuntimeError):
    """The ImageNet weights could not be found or downloaded, and no fallback is allowed."""


@dataclass(frozen=True)
class WeightsProvenance:
    """Which weights the extractor uses: stored as ``densenet_weights_provenance``."""

    weights_source: str  # "imagenet" | "local_file" | "random"
    requested: str  # the `weights` setting as given
    is_imagenet: bool  # True only for a file whose MD5 equals the official no-top file
    fallback: bool  # True when "imagenet" was requested but random weights are used
    fallback_reason: str | None = None
    file: str | None = None
    file_md5: str | None = None
    official_md5: str = NOTOP_MD5
    md5_matches_official: bool | None = None
    seed: int | None = None
    input_mode: str = "replicate"
    clip: float | None = None  # only used by input_mode "imagenet_pixels"
    architecture: str = ARCHITECTURE
    pooling: str = "avg"
    n_features: int = N_FEATURES
    keras_version: str = ""
    tensorflow_version: str = ""
    created_utc: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    schema_version: int = PROVENANCE_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ResolvedWeights:
    """Where to load weights from (``path``) or ``None`` for random weights, plus provenance."""

    path: Path | None
    provenance: WeightsProvenance


def file_md5(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)  # a checksum, as Keras publishes it
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def keras_cache_candidates() -> list[Path]:
    """Where Keras keeps (or would keep) the downloaded weights file, in search order."""
    homes = [
        os.environ.get("KERAS_HOME"),
        os.path.join(os.path.expanduser("~"), ".keras"),
        os.path.join(tempfile.gettempdir(), ".keras"),
    ]
    seen, out = set(), []
    for home in homes:
        if home and home not in seen:
            seen.add(home)
            out.append(Path(home) / "models" / NOTOP_FILENAME)
    return out


def _supply_file_fix() -> str:
    return (
        f"on a machine with internet access download {NOTOP_URL} (MD5 {NOTOP_MD5}), then either "
        f"copy it to {keras_cache_candidates()[0]} or set `deep_features.weights` to its path "
        "(e.g. in conf/local/parameters.yml). To run without it, set "
        "`deep_features.allow_random_fallback: true` (features are then NOT ImageNet features)."
    )


def download_imagenet_weights(target: Path, timeout_s: float) -> Path:
    """Download the official no-top file to ``target`` with a socket timeout; verify its MD5.

    Raises ``OSError`` (network failure, timeout) or ``ValueError`` (MD5 mismatch) quickly;
    never leaves a partial file at ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    try:
        with (
            urllib.request.urlopen(NOTOP_URL, timeout=timeout_s) as response,
            open(tmp, "wb") as out,
        ):  # noqa: S310
            shutil.copyfileobj(response, out)
        md5 = file_md5(tmp)
        if md5 != NOTOP_MD5:
            raise ValueError(f"downloaded file has MD5 {md5}, expected {NOTOP_MD5}")
        tmp.replace(target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def _random_provenance(
    requested: str, seed: int, input_mode: str, *, fallback: bool, reason: str | None
) -> WeightsProvenance:
    return WeightsProvenance(
        weights_source="random",
        requested=requested,
        is_imagenet=False,
        fallback=fallback,
        fallback_reason=reason,
        seed=int(seed),
        input_mode=input_mode,
        **_versions(),
    )


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for key, dist in (
        ("keras_version", "keras"),
        ("tensorflow_version", "tensorflow-cpu"),
        ("tensorflow_version", "tensorflow"),
    ):
        if out.get(key):
            continue
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def resolve_weights(
    weights: str,
    *,
    allow_random_fallback: bool = False,
    seed: int = 0,
    download_timeout_s: float = 10.0,
    input_mode: str = "replicate",
) -> ResolvedWeights:
    """Decide which weights file to load (or random weights) and record why.

    Parameters
    ----------
    weights : str
        ``"imagenet"``, ``"random"`` or a path to a Keras DenseNet-121 no-top weights file.
    allow_random_fallback : bool
        Only for ``"imagenet"``: when the file is neither cached nor downloadable, use seeded
        random weights (logged as a warning, ``weights_source="random"``, ``fallback=True``)
        instead of raising :class:`WeightsUnavailableError`.
    seed : int
        Seed of the random weights (``"random"`` or a fallback).
    download_timeout_s : float
        Socket timeout of the download attempt, so that an offline machine fails in seconds.
    """
    if input_mode not in INPUT_MODES:
        raise ValueError(
            f"deep_features.input_mode must be one of {INPUT_MODES}, got {input_mode!r}"
        )
    weights = str(weights)
    if weights == "random":
        return ResolvedWeights(
            None, _random_provenance(weights, seed, input_mode, fallback=False, reason=None)
        )
    if weights == "imagenet":
        return _resolve_imagenet(allow_random_fallback, seed, download_timeout_s, input_mode)
    return ResolvedWeights(*_resolve_local_file(Path(weights), input_mode))


def _resolve_imagenet(
    allow_fallback: bool, seed: int, timeout_s: float, input_mode: str
) -> ResolvedWeights:
    problems = []
    for candidate in keras_cache_candidates():
        if candidate.is_file():
            md5 = file_md5(candidate)
            if md5 == NOTOP_MD5:
                logger.info(
                    "DenseNet-121 ImageNet weights: cached file %s (MD5 verified).", candidate
                )
                return ResolvedWeights(candidate, _imagenet_provenance(candidate, md5, input_mode))
            problems.append(f"cached file {candidate} has MD5 {md5}, expected {NOTOP_MD5}")
    target = keras_cache_candidates()[0]
    try:
        logger.info(
            "DenseNet-121 ImageNet weights not cached; downloading %s (timeout %ss).",
            NOTOP_URL,
            timeout_s,
        )
        path = download_imagenet_weights(target, timeout_s)
        return ResolvedWeights(path, _imagenet_provenance(path, NOTOP_MD5, input_mode))
    except (OSError, ValueError) as exc:  # URLError and socket timeouts are OSErrors
        problems.append(f"download failed: {exc}")
    reason = "ImageNet weights unavailable: " + "; ".join(problems)
    if not allow_fallback:
        raise WeightsUnavailableError(f"{reason}. Potential fix: {_supply_file_fix()}")
    logger.warning(
        "!!! %s. FALLING BACK TO RANDOM WEIGHTS (seed %s): the deep features of this run are "
        "NOT ImageNet features and every output is labelled weights_source='random'. "
        "Potential fix: %s",
        reason,
        seed,
        _supply_file_fix(),
    )
    return ResolvedWeights(
        None, _random_provenance("imagenet", seed, input_mode, fallback=True, reason=reason)
    )


def _imagenet_provenance(path: Path, md5: str, input_mode: str) -> WeightsProvenance:
    return WeightsProvenance(
        weights_source="imagenet",
        requested="imagenet",
        is_imagenet=True,
        fallback=False,
        file=str(path),
        file_md5=md5,
        md5_matches_official=True,
        input_mode=input_mode,
        **_versions(),
    )


def _resolve_local_file(path: Path, input_mode: str) -> tuple[Path, WeightsProvenance]:
    if not path.is_file():
        raise InputDataError(
            "DenseNet-121 weights file not found.",
            file=path,
            fix="set `deep_features.weights` to an existing file, or to 'imagenet' / 'random'. "
            + _supply_file_fix(),
        )
    md5 = file_md5(path)
    matches = md5 == NOTOP_MD5
    if matches:
        logger.info(
            "DenseNet-121 weights: %s is the official Keras ImageNet no-top file (MD5 %s).",
            path,
            md5,
        )
    else:
        logger.warning(
            "DenseNet-121 weights file %s DIFFERS from the official Keras ImageNet no-top file "
            "%s (MD5 %s, expected %s): the features are not the standard ImageNet features.",
            path,
            NOTOP_FILENAME,
            md5,
            NOTOP_MD5,
        )
    prov = WeightsProvenance(
        weights_source="local_file",
        requested=str(path),
        is_imagenet=matches,
        fallback=False,
        file=str(path),
        file_md5=md5,
        md5_matches_official=matches,
        input_mode=input_mode,
        **_versions(),
    )
    return path, prov


class DenseNetExtractor:
    """A frozen DenseNet-121 giving pooled features (N, 1024) and last activations (N, 7, 7, 1024).

    Build it once per run with :func:`build_extractor`; it is read-only afterwards, so copies
    (e.g. Kedro's ``MemoryDataset`` deep copy) return the same object.
    """

    def __init__(
        self, model, provenance: WeightsProvenance, batch_size: int = 16, clip: float = 3.0
    ):
        import keras

        self.model = model
        self.provenance = provenance
        self.batch_size = int(batch_size)
        self.clip = float(clip)
        self.feature_map_model = keras.Model(
            model.inputs, model.get_layer(LAST_ACTIVATION_LAYER).output, name="densenet121_relu"
        )

    def __deepcopy__(self, memo):  # frozen: sharing is safe and avoids copying ~8M weights
        return self

    @property
    def weights_source(self) -> str:
        return self.provenance.weights_source

    @property
    def input_mode(self) -> str:
        return self.provenance.input_mode

    def to_input(self, crops: np.ndarray) -> np.ndarray:
        """(N, 224, 224) z-scored crops -> (N, 224, 224, 3) network input (see module doc)."""
        x = np.asarray(crops, dtype=np.float32)
        if self.input_mode == "imagenet_pixels":
            from keras.applications.densenet import preprocess_input

            pixels = (np.clip(x, -self.clip, self.clip) + self.clip) * (255.0 / (2 * self.clip))
            return preprocess_input(np.repeat(pixels[..., None], 3, axis=-1))
        return np.repeat(x[..., None], 3, axis=-1)

    def _batches(self, crops: np.ndarray) -> Iterator[np.ndarray]:
        """Network inputs of exactly ``batch_size`` crops each; the last batch is padded with
        zeros. TensorFlow's CPU kernels round differently for different batch sizes (~1e-8),
        so a crop's features would otherwise depend on how many crops share its call (a new
        patient alone in ``predict`` vs the whole cohort in ``deep_features``); they do not
        depend on the other crops of the batch or on the crop's position in it."""
        for start in range(0, len(crops), self.batch_size):
            batch = self.to_input(crops[start : start + self.batch_size])
            pad = self.batch_size - len(batch)
            yield np.concatenate([batch, np.zeros((pad, *batch.shape[1:]), batch.dtype)])

    def extract(self, crops: np.ndarray) -> np.ndarray:
        """Pooled deep features, float32 (N, 1024), computed in batches of ``batch_size``."""
        crops = check_crop_stack(crops)
        if len(crops) == 0:
            return np.zeros((0, N_FEATURES), dtype=np.float32)
        model = self.model
        features = [np.asarray(model.predict_on_batch(b), np.float32) for b in self._batches(crops)]
        return np.concatenate(features)[: len(crops)]

    def feature_maps(self, crops: np.ndarray) -> np.ndarray:
        """Last activation (layer ``relu``) before pooling, float32 (N, 7, 7, 1024)."""
        crops = check_crop_stack(crops)
        model = self.feature_map_model
        maps = [np.asarray(model.predict_on_batch(b), np.float32) for b in self._batches(crops)]
        return np.concatenate(maps)[: len(crops)]


def check_crop_stack(crops: np.ndarray) -> np.ndarray:
    """Validate a stack of crops: (N, 224, 224) or one (224, 224) crop, finite values."""
    arr = np.asarray(crops)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise InputDataError(
            f"crops must have shape (N, {INPUT_SIZE}, {INPUT_SIZE}), got {arr.shape}.",
            fix="crop/resample each lesion to 224x224 in the preprocessing pipeline.",
        )
    if not np.isfinite(arr).all():
        raise InputDataError(
            "crops contain NaN or infinite values.",
            fix="check the z-scoring of the preprocessing pipeline.",
        )
    return arr.astype(np.float32, copy=False)


def build_extractor(
    resolved: ResolvedWeights, *, batch_size: int = 16, clip: float = 3.0
) -> DenseNetExtractor:
    """Build the frozen DenseNet-121 once and load the resolved weights into it."""
    import keras

    prov = resolved.provenance
    with _seeded_build(None if resolved.path is not None else int(prov.seed or 0)):
        model = keras.applications.DenseNet121(
            include_top=False, weights=None, pooling="avg", input_shape=(INPUT_SIZE, INPUT_SIZE, 3)
        )
    if resolved.path is not None:
        load_weights_checked(model, resolved.path)
    model.trainable = False
    if prov.weights_source == "random":
        logger.warning(
            "!!! DenseNet-121 uses RANDOM weights (seed %s%s): deep features are NOT ImageNet "
            "features; outputs are labelled weights_source='random'.",
            prov.seed,
            ", fallback from 'imagenet'" if prov.fallback else "",
        )
    if prov.input_mode == "imagenet_pixels":
        prov = replace(prov, clip=float(clip))
    return DenseNetExtractor(model, prov, batch_size=batch_size, clip=clip)


_BUILD_LOCK = threading.Lock()


@contextmanager
def _seeded_build(seed: int | None) -> Iterator[None]:
    """Seed Keras for a random-weights build (``seed`` not ``None``), one build at a time.

    Keras draws each initializer's seed from Python's global ``random``; any other thread of
    this process drawing from it meanwhile (a Dask scheduler's or worker's event loop) would
    change the weights. During the build Keras draws from a private ``random.Random(seed)``
    instead: the same numbers as ``random.seed(seed)`` in a quiet process, whatever else runs."""
    with _BUILD_LOCK:
        if seed is None:
            yield
            return
        import keras
        from keras.src.random import seed_generator

        keras.utils.set_random_seed(seed)
        shared = seed_generator.python_random
        seed_generator.python_random = random.Random(seed)  # noqa: S311  weights, not secrets
        try:
            yield
        finally:
            seed_generator.python_random = shared


def load_weights_checked(model, path: Path) -> None:
    """``model.load_weights(path)`` with an error that names the file when it does not fit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Keras warns per weight-less container
            model.load_weights(str(path))
    except (ValueError, OSError, KeyError, TypeError) as exc:
        raise InputDataError(
            f"weights do not match the DenseNet-121 (include_top=False) architecture or are not "
            f"a readable Keras weights file: {type(exc).__name__}: {str(exc)[:300]}",
            file=path,
            fix="use the Keras no-top file " + NOTOP_FILENAME + " (MD5 " + NOTOP_MD5 + ") or "
            "weights saved from keras.applications.DenseNet121(include_top=False) "
            "(.h5 or .weights.h5).",
        ) from exc


def feature_names(phase: str, n: int = N_FEATURES) -> list[str]:
    """``[f"{phase}_f0000", ..., f"{phase}_f1023"]``."""
    return [f"{phase}_f{j:04d}" for j in range(n)]


def feature_index(name: str) -> int:
    """``"arterial_f0042" -> 42``."""
    try:
        return int(name.rsplit("_f", 1)[1])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a deep-feature name like 'arterial_f0042'") from exc


class ExtractorSettings(StrictModel):
    """The extractor part of ``params:deep_features`` (see docs/deep_features.md); the whole
    block is :class:`~hcc_nomogram.pipelines.deep_features.params.DeepFeaturesParams`."""

    weights: str = Field("imagenet", min_length=1)  # "imagenet", "random" or a file path
    allow_random_fallback: StrictBool = False
    seed: int = 0
    download_timeout_s: float = Field(10.0, gt=0)
    input_mode: Literal[INPUT_MODES] = "replicate"
    clip: float = Field(3.0, gt=0)
    batch_size: int = Field(16, ge=1)


def make_extractor(settings: ExtractorSettings | dict[str, Any]) -> DenseNetExtractor:
    """Resolve weights and build the extractor from the ``deep_features`` settings."""
    settings = typed(ExtractorSettings, settings)
    resolved = resolve_weights(
        settings.weights,
        allow_random_fallback=settings.allow_random_fallback,
        seed=settings.seed,
        download_timeout_s=settings.download_timeout_s,
        input_mode=settings.input_mode,
    )
    return build_extractor(resolved, batch_size=settings.batch_size, clip=settings.clip)


__all__: Sequence[str] = (
    "DenseNetExtractor",
    "ExtractorSettings",
    "ResolvedWeights",
    "WeightsProvenance",
    "WeightsUnavailableError",
    "build_extractor",
    "check_crop_stack",
    "feature_index",
    "feature_names",
    "file_md5",
    "make_extractor",
    "resolve_weights",
)
