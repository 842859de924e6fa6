"""Every parameter block, checked once before a run: unknown or misspelled keys are errors.

A misspelled key (``mask_lable``, ``horizon_months``, ``szie``) would otherwise be ignored and
its default used silently. :func:`check_parameters` validates each top-level block with the
typed model that owns it -- a pydantic model with ``extra="forbid"`` where one exists, else the
block's ``from_params`` -- and raises one :class:`~hcc_nomogram.errors.InputDataError` that
lists, for every problem, the dotted key, the allowed keys and the YAML file.
:class:`hcc_nomogram.hooks.ParameterCheckHooks` calls it before any node runs.

:class:`DataContract` (``data_contract``) and :class:`PredictParams` (``predict``) are defined
here; the other blocks' models live with their pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hcc_nomogram.errors import HccNomogramError, InputDataError

#: Namespaces, defined once and passed to whatever builds or names namespaced datasets
#: (``clinical.discrimination``, ``arterial.icc_table``): the two nomograms (the keys of
#: ``nomogram.models``) and the two CT phases (the keys of ``data_contract.phases``).
NOMOGRAM_MODELS = ("clinical", "integrated")
CT_PHASES = ("arterial", "portal")


class StrictModel(BaseModel):
    """Base of every parameter model: an unknown key is an error; values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Model = TypeVar("Model", bound=BaseModel)


def typed(model: type[Model], value: Any) -> Model:
    """The validated ``model`` of a parameter block -- the one conversion every node makes.

    A ``kedro run`` passes the instance where the node argument is annotated with the model
    (Kedro's typed ``params:`` inputs), else the mapping checked by :func:`check_parameters`
    when the run started; tests and notebooks pass the YAML mapping. Either way: the model.
    """
    return value if isinstance(value, model) else model.model_validate(value or {})


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


def _preprocessing(block: Mapping) -> Any:
    from hcc_nomogram.imaging.patient import PreprocessingSettings

    return PreprocessingSettings.from_params(block)


def _deep_features(block: Mapping) -> Any:
    from hcc_nomogram.features.densenet import ExtractorSettings

    return ExtractorSettings.from_params(dict(block))


def _pydantic(path: str, name: str) -> Callable[[], type[BaseModel]]:
    def load() -> type[BaseModel]:
        import importlib

        return getattr(importlib.import_module(path), name)

    return load


#: block -> (its model: a pydantic class loader, or a from_params function; its YAML file)
BLOCKS: dict[str, tuple[Callable, str]] = {
    "data_contract": (lambda: DataContract, "conf/base/parameters.yml"),
    "preprocessing": (_preprocessing, "conf/base/parameters_preprocessing.yml"),
    "deep_features": (_deep_features, "conf/base/parameters_deep_features.yml"),
    "signature": (
        _pydantic("hcc_nomogram.pipelines.signature.params", "SignatureParams"),
        "conf/base/parameters_signature.yml",
    ),
    "nomogram": (
        _pydantic("hcc_nomogram.pipelines.nomogram.config", "NomogramParams"),
        "conf/base/parameters_nomogram.yml",
    ),
    "reporting": (
        _pydantic("hcc_nomogram.report.settings", "ReportSettings"),
        "conf/base/parameters_reporting.yml",
    ),
    "predict": (lambda: PredictParams, "conf/base/parameters_predict.yml"),
    "demo_cohort": (
        _pydantic("hcc_nomogram.demo.config", "DemoCohortConfig"),
        "conf/base/parameters_demo_cohort.yml",
    ),
    "ingest": (
        _pydantic("hcc_nomogram.ingest.params", "IngestParams"),
        "conf/base/parameters_ingest.yml",
    ),
    "compute": (_pydantic("hcc_nomogram.compute", "ComputeSettings"), "conf/base/parameters.yml"),
}
PYDANTIC_BLOCKS = {
    "data_contract",
    "signature",
    "nomogram",
    "reporting",
    "predict",
    "demo_cohort",
    "ingest",
    "compute",
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
            problems.append(f"{key}: {item['msg']} (got {item.get('input')!r}).")
    return problems


def block_problems(block: str, values: Any) -> list[str]:
    """Problems of one top-level parameter block (empty when it is valid)."""
    load, _file = BLOCKS[block]
    if block in PYDANTIC_BLOCKS:
        model = load()
        try:
            model.model_validate(values)
        except ValidationError as error:
            return _pydantic_problems(block, model, error)
        return []
    try:
        load(values if values is not None else {})
    except InputDataError as error:
        return [error.problem if error.problem.startswith(block) else f"{block}: {error.problem}"]
    except (HccNomogramError, ValueError, TypeError) as error:
        text = str(error)
        return [text if text.startswith(block) else f"{block}: {text}"]
    return []


def _cross_block_problems(parameters: Mapping[str, Any]) -> list[str]:
    """Settings naming a value of another block (checked once per run, not once per patient)."""
    if "preprocessing" not in parameters or "data_contract" not in parameters:
        return []
    phases = sorted(DataContract.model_validate(parameters["data_contract"]).phases)
    fixed = _preprocessing(parameters["preprocessing"] or {}).registration.fixed_phase
    if fixed in phases:
        return []
    file = BLOCKS["preprocessing"][1] + LOCAL_NOTE
    return [
        f"- preprocessing.registration.fixed_phase: {fixed!r} is not a phase of "
        f"data_contract.phases {phases}; set it to one of them [file {file}]."
    ]


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
    if not lines:
        lines = _cross_block_problems(parameters)
    if lines:
        raise InputDataError(
            "invalid parameters; nothing was run or written:\n" + "\n".join(lines) + "\n",
            fix="correct the spelling (a misspelled key would otherwise be ignored and its "
            "default used silently) or remove the key; see the docs page of each pipeline.",
        )
