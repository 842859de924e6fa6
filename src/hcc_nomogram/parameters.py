"""Every parameter block, checked once before a run: unknown or misspelled keys are errors.

A misspelled key (``mask_lable``, ``horizon_months``, ``szie``) would otherwise be ignored and
its default used silently. Each top-level block has one pydantic model (a :class:`StrictModel`,
sub-blocks nested models), listed in :data:`BLOCKS`. :func:`check_parameters` validates every
block, then the settings that name values of another block (:func:`cross_block_problems`), and
raises one :class:`~hcc_nomogram.errors.InputDataError` that lists, for every problem, the
dotted key, what is wrong (the allowed keys) and the YAML file;
:class:`hcc_nomogram.hooks.ParameterCheckHooks` calls it before any node runs. Nodes convert
their blocks with :func:`typed`, which reports a bad block (a node called directly, from a test
or a notebook) in the same format.

:class:`DataContract` (``data_contract``) and :class:`PredictParams` (``predict``) are defined
here; the other blocks' models live with their pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hcc_nomogram.errors import InputDataError

#: Namespaces, defined once and passed to whatever builds or names namespaced datasets
#: (``clinical.discrimination``, ``arterial.icc_table``): the two nomograms (the keys of
#: ``nomogram.models``) and the two CT phases (the keys of ``data_contract.phases``).
NOMOGRAM_MODELS = ("clinical", "integrated")
CT_PHASES = ("arterial", "portal")


class StrictModel(BaseModel):
    """Base of every parameter model: an unknown key is an error; values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Model = TypeVar("Model", bound=BaseModel)


class OutcomeColumns(StrictModel):
    time: str
    event: str


class DataContract(StrictModel):
    """``data_contract`` (``conf/base/parameters.yml``): column names shared by all pipelines."""

    id_column: str = "patient_id"
    center_column: str = "center"
    cohort_column: str = "cohort"
    training_value: str = "training"
    validation_value: str = "validation"
    phases: dict[str, str]
    delineations: dict[str, dict[str, str]]
    primary_delineation: str = "r1a"
    mask_label: int = Field(1, ge=1)
    outcomes: dict[str, OutcomeColumns] = {}

    @model_validator(mode="after")
    def _consistent(self) -> DataContract:
        if self.training_value == self.validation_value:
            raise ValueError("training_value and validation_value must differ")
        if self.primary_delineation not in self.delineations:
            raise ValueError(
                f"primary_delineation {self.primary_delineation!r} is not one of the "
                f"delineations {sorted(self.delineations)}"
            )
        return self


class PredictParams(StrictModel):
    """``predict`` (``conf/base/parameters_predict.yml``), see docs/predict.md."""

    horizons_months: list[float] = Field(default_factory=lambda: [12.0, 24.0, 36.0], min_length=1)
    curve_step_months: float = Field(1.0, gt=0)
    curve_max_months: float | None = Field(None, gt=0)
    on_out_of_range: Literal["refuse", "flag"] = "refuse"
    out_of_range_margin: float = Field(0.5, ge=0)


def _model(path: str, name: str) -> Callable[[], type[BaseModel]]:
    def load() -> type[BaseModel]:
        import importlib

        return getattr(importlib.import_module(path), name)

    return load


#: block -> (a loader of its model, its YAML file)
BLOCKS: dict[str, tuple[Callable[[], type[BaseModel]], str]] = {
    "data_contract": (lambda: DataContract, "conf/base/parameters.yml"),
    "preprocessing": (
        _model("hcc_nomogram.imaging.patient", "PreprocessingSettings"),
        "conf/base/parameters_preprocessing.yml",
    ),
    "deep_features": (
        _model("hcc_nomogram.pipelines.deep_features.params", "DeepFeaturesParams"),
        "conf/base/parameters_deep_features.yml",
    ),
    "signature": (
        _model("hcc_nomogram.pipelines.signature.params", "SignatureParams"),
        "conf/base/parameters_signature.yml",
    ),
    "nomogram": (
        _model("hcc_nomogram.pipelines.nomogram.config", "NomogramParams"),
        "conf/base/parameters_nomogram.yml",
    ),
    "reporting": (
        _model("hcc_nomogram.report.settings", "ReportSettings"),
        "conf/base/parameters_reporting.yml",
    ),
    "predict": (lambda: PredictParams, "conf/base/parameters_predict.yml"),
    "demo_cohort": (
        _model("hcc_nomogram.demo.config", "DemoCohortConfig"),
        "conf/base/parameters_demo_cohort.yml",
    ),
    "ingest": (
        _model("hcc_nomogram.ingest.params", "IngestParams"),
        "conf/base/parameters_ingest.yml",
    ),
    "compute": (_model("hcc_nomogram.compute", "ComputeSettings"), "conf/base/parameters.yml"),
}
LOCAL_NOTE = " (or its override in conf/local/)"


def _field_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Model``, ``Model | None``, ``list[Model]``,
    ``dict[str, Model]``), else ``None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _field_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (sub-)model that holds the key at ``loc``."""
    current: type[BaseModel] | None = model
    container_key = False  # the next entry of loc is a dict key or list index
    for part in loc[:-1]:
        if container_key:
            container_key = False
            continue
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            return []
        annotation = field.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) not in (dict, list) and len(args) == 1:  # X | None
            annotation = args[0]
        current = _field_model(annotation)
        container_key = get_origin(annotation) in (dict, list)
    return sorted(current.model_fields) if current is not None else []


def _pydantic_problems(block: str, model: type[BaseModel], error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join([block, *map(str, loc)])
        if item["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown key; allowed keys here: {_allowed_keys(model, loc)}.")
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{key}: {message} (got {item.get('input')!r}).")
    return problems


def block_problems(block: str, values: Any) -> list[str]:
    """Problems of one top-level parameter block (empty when it is valid)."""
    model = BLOCKS[block][0]()
    try:
        model.model_validate(values if values is not None else {})
    except ValidationError as error:
        return _pydantic_problems(block, model, error)
    return []


def _location(model: type[BaseModel]) -> tuple[str, str]:
    """Dotted key and YAML file of the block or sub-block ``model`` validates (a model inside
    a dict or list is named ``<key>.*``), for the errors of :func:`typed`."""

    def find(current: type[BaseModel], key: str) -> str | None:
        if issubclass(current, model):
            return key
        for name, field in current.model_fields.items():
            sub = _field_model(field.annotation)
            inner = get_origin(field.annotation) in (dict, list)
            found = find(sub, f"{key}.{name}" + (".*" if inner else "")) if sub else None
            if found is not None:
                return found
        return None

    for block, (load, file) in BLOCKS.items():
        key = find(load(), block)
        if key is not None:
            return key, file + LOCAL_NOTE
    return model.__name__, "conf/base/parameters*.yml"


SPELLING_FIX = (
    "correct the spelling (a misspelled key would otherwise be ignored and its default used "
    "silently) or remove the key; see the docs page of each pipeline."
)
CROSS_BLOCK_FIX = (
    "make each setting name a value that data_contract defines (docs/data_contract.md)."
)


def _invalid(lines: list[str], header: str, fix: str = SPELLING_FIX) -> InputDataError:
    return InputDataError(f"{header}\n" + "\n".join(lines) + "\n", fix=fix)


def typed(model: type[Model], value: Any) -> Model:
    """The validated ``model`` of a parameter block -- the one conversion every node makes.

    A ``kedro run`` passes the instance where the node argument is annotated with the model
    (Kedro's typed ``params:`` inputs), else the mapping checked by :func:`check_parameters`
    when the run started; tests and notebooks pass the YAML mapping. Either way: the model,
    or an :class:`InputDataError` listing each problem as :func:`check_parameters` does.
    """
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value or {})
    except ValidationError as error:
        key, file = _location(model)
        problems = _pydantic_problems(key, model, error)
        raise _invalid([f"- {p} [file {file}]" for p in problems], "invalid parameters:") from None


def cross_block_problems(
    data_contract: Any, *, preprocessing: Any = None, icc: Any = None
) -> list[str]:
    """Settings that name values of ``data_contract`` (typed or YAML blocks; ``icc``:
    ``deep_features.icc``): checked once per run by :func:`check_parameters`, and by the nodes
    that use them when called directly."""
    contract = typed(DataContract, data_contract)
    problems = []
    if preprocessing is not None:
        problems += _preprocessing_problems(
            contract, typed(BLOCKS["preprocessing"][0](), preprocessing)
        )
    if icc is not None:
        from hcc_nomogram.pipelines.deep_features.params import IccSettings

        known = sorted(contract.delineations)
        file = BLOCKS["deep_features"][1] + LOCAL_NOTE
        for name, pair in typed(IccSettings, icc).comparisons.items():
            if not set(pair) <= set(known):
                problems.append(
                    f"- deep_features.icc.comparisons.{name}: must name two different "
                    f"delineations of data_contract.delineations {known}, got {list(pair)} "
                    f"[file {file}]"
                )
    return problems


def _preprocessing_problems(contract: DataContract, preprocessing: Any) -> list[str]:
    phases = sorted(contract.phases)
    problems = []
    fixed = preprocessing.registration.fixed_phase
    if fixed not in phases:
        problems.append(
            f"- preprocessing.registration.fixed_phase: {fixed!r} is not a phase of "
            f"data_contract.phases {phases}; set it to one of them "
            f"[file {BLOCKS['preprocessing'][1] + LOCAL_NOTE}]"
        )
    for delineation, columns in contract.delineations.items():
        missing = sorted(set(phases) - set(columns))
        if missing:
            problems.append(
                f"- data_contract.delineations.{delineation}: no mask column for phase(s) "
                f"{missing}; name one mask column per phase for every delineation "
                f"[file {BLOCKS['data_contract'][1] + LOCAL_NOTE}]"
            )
    return problems


def check_consistent(data_contract: Any, *, preprocessing: Any = None, icc: Any = None) -> None:
    """Raise :class:`InputDataError` listing the :func:`cross_block_problems`, if any."""
    lines = cross_block_problems(data_contract, preprocessing=preprocessing, icc=icc)
    if lines:
        raise _invalid(lines, "inconsistent parameters:", CROSS_BLOCK_FIX)


def check_parameters(parameters: Mapping[str, Any]) -> None:
    """Raise one :class:`InputDataError` listing every unknown key and invalid value of every
    parameter block, each with its dotted key and YAML file; nothing runs before it passes."""
    lines = []
    for block, values in parameters.items():
        if block not in BLOCKS:
            lines.append(
                f"- {block}: unknown parameter block; allowed blocks: {sorted(BLOCKS)} "
                "(conf/base/parameters*.yml, conf/local/parameters*.yml)."
            )
            continue
        file = BLOCKS[block][1] + LOCAL_NOTE
        lines += [f"- {p} [file {file}]" for p in block_problems(block, values)]
    fix = SPELLING_FIX
    if not lines and "data_contract" in parameters:
        fix = CROSS_BLOCK_FIX
        lines = cross_block_problems(
            parameters["data_contract"],
            preprocessing=parameters.get("preprocessing"),
            icc=(parameters.get("deep_features") or {}).get("icc"),
        )
    if lines:
        raise _invalid(lines, "invalid parameters; nothing was run or written:", fix)
