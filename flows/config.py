"""Site configuration: one TOML file plus ``QUAYWATCH__SECTION__KEY`` environment overrides.

The file describes the warehouse, the Kafka brokers and topics, the meters and tanks of the site and the
tolerances. Every flow is built from a :class:`Config`, so tests and the command line build the same graph
with different connectors.

Environment overrides use double underscores as the path separator and are parsed as TOML values when
possible (``QUAYWATCH__WAREHOUSE__DSN=http://ch:8123``, ``QUAYWATCH__WAREHOUSE__BATCH_ROWS=50000``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from connectors.warehouse.retention import RetentionPolicy, retention_policy
from operators.input_limits import InputLimits
from operators.vgm_policy import VgmPolicy, vgm_policy

ENV_PREFIX = "QUAYWATCH__"
DEFAULT_CONFIG = "demo_site/quaywatch.toml"


class ConfigError(ValueError):
    """The configuration is missing a value or holds an invalid one."""


@dataclass(frozen=True)
class WarehouseConfig:
    """Where results go and how they are batched.

    Attributes:
        dsn: ``chdb:///abs/path`` (embedded), ``http(s)://user:pass@host:port`` (server), or empty for
            the embedded default ``chdb:///<data dir>/warehouse``.
        database: ClickHouse database holding every quaywatch table.
        batch_rows: Rows per insert under load.
        flush_seconds: Longest time a row waits in the sink buffer.
        retry_attempts: Tries of one insert before the flow stops with an error (1 = no retry).
        retry_backoff_s: Wait after the first failed try; doubled after each further one.
        retry_backoff_max_s: Longest wait between two tries.
        password_file: File holding the server's password (kept out of the DSN and of the configuration).
        secure: Use TLS (implied by an ``https://`` DSN).
        verify: Verify the server's certificate.
        ca_cert: CA bundle (PEM) the server's certificate is verified against.
        client_cert: Client certificate (PEM) for mutual TLS.
        client_cert_key: Its private key (PEM), when not inside ``client_cert``.
    """

    dsn: str = ""
    database: str = "quaywatch"
    batch_rows: int = 50_000
    flush_seconds: float = 1.0
    retry_attempts: int = 8
    retry_backoff_s: float = 0.5
    retry_backoff_max_s: float = 30.0
    password_file: str = ""
    secure: bool = False
    verify: bool = True
    ca_cert: str = ""
    client_cert: str = ""
    client_cert_key: str = ""


@dataclass(frozen=True)
class KafkaConfig:
    """Broker address, topic names and client settings.

    ``client`` holds librdkafka settings passed through unchanged to every consumer and producer (TLS and SASL:
    ``security.protocol``, ``ssl.ca.location``, ``sasl.mechanism``, ``sasl.username`` ...); the SASL password is
    read from ``sasl_password_file`` so it stays out of the configuration.
    """

    brokers: str = "127.0.0.1:9092"
    topics: Mapping[str, str] = field(default_factory=dict)
    client: Mapping[str, str] = field(default_factory=dict)
    sasl_password_file: str = ""

    def topic(self, name: str) -> str:
        """Topic for a logical stream name (``meter.readings`` → ``quaywatch.meter.readings``)."""
        return self.topics.get(name.replace(".", "_"), f"quaywatch.{name}")


@dataclass(frozen=True)
class MeterConfig:
    """A flow meter on a transfer line (M1, M5, M6)."""

    meter_id: str
    serial: str
    line: str
    product: str
    product_group: str
    accuracy_class: float = 0.3
    calibration_certificate: str = ""
    calibration_expires: date | None = None
    has_densitometer: bool = True
    default_density_15c_kgm3: float | None = None
    alpha60_per_f: float | None = None
    qmax_m3h: float | None = None


@dataclass(frozen=True)
class TankConfig:
    """A shore tank with its strapping (calibration) table (M5, M11, M12)."""

    tank_id: str
    strapping_table: Path
    reference_height_mm: float
    capacity_m3: float
    product: str
    product_group: str
    density_15c_kgm3: float
    alpha60_per_f: float | None = None


@dataclass(frozen=True)
class OperationConfig:
    """Operation detection: hysteresis on flow rate, debounced in event time."""

    start_flow_m3h: float = 30.0
    stop_flow_m3h: float = 10.0
    stop_after_s: float = 120.0
    min_volume_m3: float = 0.5
    progress_every_s: float = 60.0
    max_reset_jump_m3: float = 50.0


@dataclass(frozen=True)
class TankStateConfig:
    """Tank movement classification: receiving / delivering / idle."""

    window_s: float = 300.0
    min_rate_m3h: float = 5.0


@dataclass(frozen=True)
class ChecksConfig:
    """Thresholds of the fuel checks (M6, M7, M9, M11); see the demo site's ``[checks]`` section."""

    gap_s: float = 30.0
    stuck_s: float = 300.0
    jump_factor: float = 1.5
    calibration_warn_days: int = 30
    reconcile_window_s: float = 1800.0
    reconcile_grace_s: float = 300.0
    min_window_m3: float = 50.0
    tank_gauge_uncertainty_mm: float = 3.0
    drift_operations: int = 3
    drift_threshold_pct: float = 0.15
    drift_lateness_s: float = 3600.0
    heel_m3: float = 5.0
    opening_max_age_s: float = 3600.0


@dataclass(frozen=True)
class ReportsConfig:
    """Report settings: the no-movement evidence (M10).

    Attributes:
        gauge_uncertainty_mm: Uncertainty of one tank gauge reading; a change of GSV smaller than the volume
            of ± this many millimetres at the tank's level is not movement.
        no_movement_max_gap_s: A longer gap between gauge readings leaves the period unproven.
    """

    gauge_uncertainty_mm: float = 3.0
    no_movement_max_gap_s: float = 900.0


@dataclass(frozen=True)
class GateConfig:
    """Gate OCR (G1, G4): engine, passage grouping, camera roles and the frame archive.

    Attributes:
        engine: ``rapidocr`` (default) or ``easyocr`` (needs the ``easyocr`` extra).
        threads: CPU threads the engine may use.
        det_max_side: Longest side of the downscaled frame the text detector sees.
        passage_gap_s: Without a ``passage_id``, frames of one lane further apart than this start a new passage.
        plate_min_confidence: Per engine, the least OCR confidence of a plate accepted from a single frame (else
            two frames must agree); above 1 means never.
        max_frames_per_passage: Bound of the per-lane state.
        plate_cameras: Cameras that see the tractor's plate.
        trailer_plate_cameras: Cameras that see the trailer's plate.
        seal_rois: Camera → handle region (x0, y0, x1, y1 as fractions of the frame) for the seal check.
        rois: Camera → regions of interest for the text detector (empty: the whole frame).
        archive_dir: Frame archive directory (empty: ``<data dir>/archive``).
        retention_days: How long archived frames are kept (C2: one year).
    """

    engine: str = "rapidocr"
    threads: int = 2
    det_max_side: int = 640
    passage_gap_s: float = 10.0
    plate_min_confidence: Mapping[str, float] = field(default_factory=lambda: {"rapidocr": 0.85, "easyocr": 1.01})
    max_frames_per_passage: int = 64
    plate_cameras: tuple[str, ...] = ("lpr",)
    trailer_plate_cameras: tuple[str, ...] = ("rear",)
    seal_rois: Mapping[str, tuple[float, float, float, float]] = field(
        default_factory=lambda: {"rear": (0.50, 0.42, 0.72, 0.62)})
    rois: Mapping[str, tuple[tuple[float, float, float, float], ...]] = field(default_factory=dict)
    archive_dir: str = ""
    retention_days: int = 365

    def plate_confidence(self, engine: str | None = None) -> float:
        """Single-frame plate threshold of an engine (the configured one by default)."""
        return self.plate_min_confidence.get(engine or self.engine, 1.01)


@dataclass(frozen=True)
class CamerasConfig:
    """Camera health (C1-C3): camera roles, windows, outage gap, tamper thresholds and persistence.

    Attributes:
        roles: Camera id → role (``entry_exit`` | ``handling`` | ``general``, Ek-80 III.A(2)-(4)).
        default_role: Role of a camera not listed.
        window_s: Length of the ``camera_health`` windows.
        outage_gap_s: A camera without frames for longer than this is in outage.
        fps_tolerance: Relative slack on the measured frame rate (millisecond timestamps).
        retention_days: How long the archive keeps a camera's recordings (0: the ``[gate]`` retention).
        retention_overrides: Camera id → retention days.
        tamper: Tamper thresholds and persistence (fields of ``operators.camera_tamper.TamperParams``).
        overrides: Camera id → tamper fields that differ for that camera.
    """

    roles: Mapping[str, str] = field(default_factory=dict)
    default_role: str = "general"
    window_s: float = 60.0
    outage_gap_s: float = 5.0
    fps_tolerance: float = 0.02
    retention_days: int = 0
    retention_overrides: Mapping[str, int] = field(default_factory=dict)
    tamper: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def role(self, camera_id: str) -> str:
        """The role of a camera."""
        return self.roles.get(camera_id, self.default_role)


@dataclass(frozen=True)
class ContainersConfig:
    """Container and port tracking (issue 10): discharge completion, storage periods, state retention.

    Attributes:
        quiet_period_h: A vessel's discharge is complete at its departure or this long after its last discharge.
        storage_limit_days: Temporary-storage period (Customs Law 4458 Art. 48: 45 days by sea).
        storage_warn_days: Warn this many days before the period ends.
        retention_after_exit_h: Drop a container's flow state this long (event time) after it left.
        call_retention_h: Drop a completed vessel call's reconciliation state this long after completion.
        inspection_discharge_max_h: A container selected for inspection discharged later than this after the
            order is reported (A.2.4).
        exit_notice_block_pct: Exit-notice weight difference above which loading is blocked (B.3: 10 %).
        stuffing_seal_max_h: A container stuffed in the port must be sealed within this time (A.2.18, A.4.4).
    """

    quiet_period_h: float = 6.0
    storage_limit_days: float = 45.0
    storage_warn_days: float = 5.0
    retention_after_exit_h: float = 168.0
    call_retention_h: float = 72.0
    inspection_discharge_max_h: float = 24.0
    exit_notice_block_pct: float = 10.0
    stuffing_seal_max_h: float = 24.0


@dataclass(frozen=True)
class ExitBalanceConfig:
    """The package/kg balance of a declaration leaving on several vehicles (``[exit_balance]``; G7, G9).

    One rule for the gate decisions and the containers flow (:mod:`operators.declaration_balance`).

    Attributes:
        warn_pct: A kg difference above this % of the declared kg is a warning (B.3.2.5(c): any difference, 0).
        block_pct: A kg difference above this % blocks the exit (B.3.2.6–7: 10 %).
        match_window_min: A port ``gate_out`` of the plate the gate let out within this many minutes after the
            barrier is that same vehicle (deducted once).
    """

    warn_pct: float = 0.0
    block_pct: float = 10.0
    match_window_min: float = 120.0

    def __post_init__(self) -> None:
        if not 0 <= self.warn_pct <= self.block_pct or self.match_window_min <= 0:
            raise ValueError("exit_balance needs 0 <= warn_pct <= block_pct and a positive match_window_min")


@dataclass(frozen=True)
class GateDecisionsConfig:
    """Barrier decisions against pre-gate notices (``[gate_decisions]``, issue 5).

    Attributes:
        notice_validity_h: How long a notice stays open after it was sent.
        outage_after_min: Pre-gate feed silence after which passages are admitted in degraded mode (G8).
        regularise_within_h: How long a degraded passage may wait for its late notice (C.2.1: 24 h).
        keep_recent: Decided passages kept for re-decision by a notice processed after them.
    """

    notice_validity_h: float = 24.0
    outage_after_min: float = 30.0
    regularise_within_h: float = 24.0
    keep_recent: int = 256

    def __post_init__(self) -> None:
        if min(self.notice_validity_h, self.outage_after_min, self.regularise_within_h) <= 0 or self.keep_recent < 1:
            raise ValueError("gate_decisions limits must be positive")


@dataclass(frozen=True)
class Config:
    """Everything a flow needs to know about the site."""

    site: str
    warehouse: WarehouseConfig
    kafka: KafkaConfig
    meters: tuple[MeterConfig, ...]
    tanks: tuple[TankConfig, ...]
    operations: OperationConfig = OperationConfig()
    tank_state: TankStateConfig = TankStateConfig()
    checks: ChecksConfig = ChecksConfig()
    vcf_round_inputs: bool = True
    tolerances: Mapping[str, Any] = field(default_factory=dict)
    source_path: Path | None = None
    reports: ReportsConfig = ReportsConfig()
    vgm: VgmPolicy = field(default_factory=VgmPolicy)
    gate: GateConfig = GateConfig()
    cameras: CamerasConfig = CamerasConfig()
    containers: ContainersConfig = ContainersConfig()
    gate_decisions: GateDecisionsConfig = GateDecisionsConfig()
    exit_balance: ExitBalanceConfig = ExitBalanceConfig()
    retention: RetentionPolicy = field(default_factory=lambda: retention_policy({}))
    limits: InputLimits = field(default_factory=InputLimits)

    def meter(self, meter_id: str) -> MeterConfig | None:
        """The configured meter with this id, if any."""
        return next((m for m in self.meters if m.meter_id == meter_id), None)

    def tank(self, tank_id: str) -> TankConfig | None:
        """The configured tank with this id, if any."""
        return next((t for t in self.tanks if t.tank_id == tank_id), None)


def default_config_path() -> Path:
    """Path of the demo site configuration shipped inside the package."""
    return Path(str(resources.files("flows") / DEFAULT_CONFIG))


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load a configuration file and apply environment overrides.

    Args:
        path: TOML file; ``QUAYWATCH_CONFIG`` or the shipped demo site when omitted.
        environ: Environment to read overrides from (defaults to ``os.environ``).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: When the file is unreadable or a value is missing or invalid.
    """
    env = os.environ if environ is None else environ
    cfg_path = Path(path or env.get("QUAYWATCH_CONFIG") or default_config_path())
    try:
        raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {cfg_path}: {exc}") from exc
    apply_env_overrides(raw, env)
    return parse_config(raw, base_dir=cfg_path.parent, source_path=cfg_path)


def apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Apply ``QUAYWATCH__A__B=value`` overrides to a raw TOML mapping in place."""
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k]
        if not keys:
            continue
        node = raw
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: {key!r} is not a table in the configuration")
            node = child
        node[keys[-1]] = _parse_env_value(value)


def _parse_env_value(value: str) -> Any:
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def parse_config(raw: Mapping[str, Any], base_dir: Path, source_path: Path | None = None) -> Config:
    """Build a :class:`Config` from a raw mapping (already merged with overrides).

    Args:
        raw: The TOML document as a mapping.
        base_dir: Directory that relative paths (strapping tables) are resolved against.
        source_path: The file the mapping came from, kept for messages.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: On a missing or invalid value.
    """
    try:
        meters = tuple(_meter(m) for m in raw.get("meters", []))
        tanks = tuple(_tank(t, base_dir) for t in raw.get("tanks", []))
        wh = dict(raw.get("warehouse", {}))
        kafka = dict(raw.get("kafka", {}))
        cfg = Config(
            site=str(raw.get("site", "site")),
            warehouse=WarehouseConfig(**wh),
            kafka=KafkaConfig(
                brokers=str(kafka.get("brokers", KafkaConfig.brokers)),
                topics={str(k): str(v) for k, v in kafka.get("topics", {}).items()},
                client={str(k): str(v) for k, v in kafka.get("client", {}).items()},
                sasl_password_file=str(kafka.get("sasl_password_file", "")),
            ),
            meters=meters,
            tanks=tanks,
            operations=OperationConfig(**raw.get("operations", {})),
            tank_state=TankStateConfig(**raw.get("tank_state", {})),
            checks=ChecksConfig(**raw.get("checks", {})),
            vcf_round_inputs=bool(raw.get("vcf", {}).get("round_inputs", True)),
            tolerances=dict(raw.get("tolerances", {})),
            source_path=source_path,
            reports=ReportsConfig(**raw.get("reports", {})),
            vgm=vgm_policy(raw.get("vgm", {})),
            gate=_gate(raw.get("gate", {})),
            cameras=_cameras(raw.get("cameras", {})),
            containers=ContainersConfig(**raw.get("containers", {})),
            gate_decisions=GateDecisionsConfig(**raw.get("gate_decisions", {})),
            exit_balance=ExitBalanceConfig(**raw.get("exit_balance", {})),
            retention=retention_policy(raw.get("retention", {})),
            limits=InputLimits(**raw.get("limits", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        where = f" in {source_path}" if source_path else ""
        raise ConfigError(f"invalid configuration{where}: {exc}") from exc
    _check_unique("meter_id", [m.meter_id for m in meters])
    _check_unique("tank_id", [t.tank_id for t in tanks])
    return cfg


def _meter(raw: Mapping[str, Any]) -> MeterConfig:
    expires = raw.get("calibration_expires")
    if isinstance(expires, str):
        expires = date.fromisoformat(expires)
    return MeterConfig(
        meter_id=str(raw["meter_id"]),
        serial=str(raw["serial"]),
        line=str(raw.get("line", "")),
        product=str(raw.get("product", "")),
        product_group=str(raw["product_group"]),
        accuracy_class=float(raw.get("accuracy_class", 0.3)),
        calibration_certificate=str(raw.get("calibration_certificate", "")),
        calibration_expires=expires,
        has_densitometer=bool(raw.get("has_densitometer", True)),
        default_density_15c_kgm3=_opt_float(raw.get("default_density_15c_kgm3")),
        alpha60_per_f=_opt_float(raw.get("alpha60_per_f")),
        qmax_m3h=_opt_float(raw.get("qmax_m3h")),
    )


def _tank(raw: Mapping[str, Any], base_dir: Path) -> TankConfig:
    table = Path(str(raw["strapping_table"]))
    return TankConfig(
        tank_id=str(raw["tank_id"]),
        strapping_table=table if table.is_absolute() else base_dir / table,
        reference_height_mm=float(raw["reference_height_mm"]),
        capacity_m3=float(raw["capacity_m3"]),
        product=str(raw.get("product", "")),
        product_group=str(raw["product_group"]),
        density_15c_kgm3=float(raw["density_15c_kgm3"]),
        alpha60_per_f=_opt_float(raw.get("alpha60_per_f")),
    )


def _roi(value: Any) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in value)
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"region {list(value)} is not x0 < x1, y0 < y1 within 0..1")
    return x0, y0, x1, y1


def _gate(raw: Mapping[str, Any]) -> GateConfig:
    d = GateConfig()
    engine = str(raw.get("engine", d.engine))
    if engine not in ("rapidocr", "easyocr"):
        raise ValueError(f"gate.engine must be rapidocr or easyocr, not {engine!r}")
    retention = int(raw.get("retention_days", d.retention_days))
    if retention < 1:
        raise ValueError("gate.retention_days must be at least 1")
    gap = float(raw.get("passage_gap_s", d.passage_gap_s))
    if gap <= 0:
        raise ValueError("gate.passage_gap_s must be positive")
    return GateConfig(
        engine=engine,
        threads=int(raw.get("threads", d.threads)),
        det_max_side=int(raw.get("det_max_side", d.det_max_side)),
        passage_gap_s=gap,
        plate_min_confidence={**d.plate_min_confidence, **{str(k): float(v) for k, v in
                                                             raw.get("plate_min_confidence", {}).items()}},
        max_frames_per_passage=int(raw.get("max_frames_per_passage", d.max_frames_per_passage)),
        plate_cameras=tuple(str(c) for c in raw.get("plate_cameras", d.plate_cameras)),
        trailer_plate_cameras=tuple(str(c) for c in raw.get("trailer_plate_cameras", d.trailer_plate_cameras)),
        seal_rois={str(k): _roi(v) for k, v in raw.get("seal_rois", d.seal_rois).items()},
        rois={str(k): tuple(_roi(r) for r in v) for k, v in raw.get("rois", {}).items()},
        archive_dir=str(raw.get("archive_dir", d.archive_dir)),
        retention_days=retention,
    )


def _cameras(raw: Mapping[str, Any]) -> CamerasConfig:
    from operators.camera_compliance import ROLE_MINIMUMS
    from operators.camera_tamper import TamperParams

    d = CamerasConfig()
    roles = {str(k): str(v) for k, v in raw.get("roles", {}).items()}
    default_role = str(raw.get("default_role", d.default_role))
    for cam, role in [*roles.items(), ("default_role", default_role)]:
        if role not in ROLE_MINIMUMS:
            raise ValueError(f"cameras: role of {cam} must be one of {', '.join(ROLE_MINIMUMS)}, not {role!r}")
    tamper = dict(raw.get("tamper", {}))
    overrides = {str(k): dict(v) for k, v in raw.get("overrides", {}).items()}
    TamperParams(**tamper)  # unknown names or inconsistent persistence fail here, at load time
    for o in overrides.values():
        TamperParams(**{**tamper, **o})
    cfg = CamerasConfig(
        roles=roles, default_role=default_role, window_s=float(raw.get("window_s", d.window_s)),
        outage_gap_s=float(raw.get("outage_gap_s", d.outage_gap_s)),
        fps_tolerance=float(raw.get("fps_tolerance", d.fps_tolerance)),
        retention_days=int(raw.get("retention_days", d.retention_days)),
        retention_overrides={str(k): int(v) for k, v in raw.get("retention_overrides", {}).items()},
        tamper=tamper, overrides=overrides)
    if cfg.window_s <= 0 or cfg.outage_gap_s <= 0 or cfg.retention_days < 0:
        raise ValueError("cameras: window_s and outage_gap_s must be positive, retention_days not negative")
    return cfg


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _check_unique(what: str, ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"duplicate {what}: {', '.join(dupes)}")
