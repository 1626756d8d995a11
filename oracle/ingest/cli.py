"""`lec oracle ingest`, `lec oracle watch`: readings from files of the triage area."""

from __future__ import annotations

from pathlib import Path

import click

from lec.db.session import get_engine, init_db
from oracle.ingest.files import FileReport, UnreadableFile, candidate_files, ingest_file
from oracle.ingest.store import load_catalogue
from oracle.ingest.watch import watch as watch_folder

_DB_OPTION = click.option(
    "--database-url", default=None, help="Database URL (default: DATABASE_URL, else SQLite in LEC_DATA_DIR)."
)


def _echo(report: FileReport) -> None:
    click.echo(report.summary())


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--keep", is_flag=True, help="Leave files where they are instead of moving them to processed/.")
@_DB_OPTION
def ingest(paths: tuple[Path, ...], keep: bool, database_url: str | None) -> None:
    """Ingest CSV/JSON files of readings (files, or folders of them). See docs/ingestion.md for the format."""
    engine = init_db(get_engine(database_url))
    try:
        files = candidate_files(paths)
    except FileNotFoundError as error:
        raise click.UsageError(str(error)) from error
    catalogue = load_catalogue(engine)
    rejected = 0
    for path in files:
        try:
            report = ingest_file(path, engine, move=not keep, catalogue=catalogue)
        except UnreadableFile as error:
            raise click.ClickException(f"{path}: {error}") from error
        _echo(report)
        rejected += len(report.rejected)
    if rejected:
        click.echo(f"{rejected} readings were rejected; each is an anomaly with its reason.")


@click.command("watch")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--interval", default=2.0, show_default=True, help="Seconds between scans of the folder.")
@_DB_OPTION
def watch(folder: Path, interval: float, database_url: str | None) -> None:
    """Watch a triage folder: ingest each file once it stops growing, then move it to processed/."""
    engine = init_db(get_engine(database_url))
    click.echo(f"Watching {folder} every {interval} s (Ctrl-C to stop).")
    try:
        watch_folder(folder, engine, interval, _echo)
    except KeyboardInterrupt:
        click.echo("Stopped.")


@click.command("mqtt")
@click.option("--host", envvar="LEC_MQTT_HOST", default="127.0.0.1", show_default=True, help="Broker host.")
@click.option("--port", envvar="LEC_MQTT_PORT", default=1883, show_default=True, help="Broker port.")
@click.option("--username", envvar="LEC_MQTT_USERNAME", default="lec-oracle", show_default=True)
@click.option(
    "--password-file",
    envvar="LEC_MQTT_PASSWORD_FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the bridge's password (or set LEC_MQTT_PASSWORD).",
)
@click.option("--tls", envvar="LEC_MQTT_TLS", is_flag=True, help="Connect with TLS (system CA certificates).")
@click.option(
    "--feedback-qos",
    type=click.IntRange(0, 1),
    default=1,
    show_default=True,
    help="QoS of the answers on …/feedback (0 halves the bridge's packets at high message rates).",
)
@click.option(
    "--consumers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Bridge processes sharing the readings through an MQTT 5 shared subscription (one per core helps).",
)
@_DB_OPTION
def mqtt(
    host: str,
    port: int,
    username: str,
    password_file: Path | None,
    tls: bool,
    feedback_qos: int,
    consumers: int,
    database_url: str | None,
) -> None:
    """Bridge MQTT readings (lec/<community>/<device>/readings) into the database, answering on …/feedback."""
    import logging

    from lec.settings import get_settings
    from oracle.ingest.mqtt import BridgeConfig, MqttBridge

    secret = get_settings().mqtt_password
    password = password_file.read_text().strip() if password_file else (secret.get_secret_value() if secret else None)
    if not password:
        raise click.UsageError("The broker needs the bridge's password: set LEC_MQTT_PASSWORD or --password-file.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = init_db(get_engine(database_url))
    config = BridgeConfig(
        host=host, port=port, username=username, password=password, tls=tls, feedback_qos=feedback_qos
    )
    if consumers > 1:
        import multiprocessing

        from oracle.ingest.mqtt import consumer_configs, run_consumer

        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=run_consumer, args=(url, c)) for c in consumer_configs(config, consumers)]
        click.echo(f"Bridging mqtt://{host}:{port} with {consumers} processes on one shared subscription")
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                worker.join()
        except KeyboardInterrupt:
            click.echo("Stopped.")
        return
    bridge = MqttBridge(engine, config)
    click.echo(f"Bridging mqtt://{host}:{port} lec/+/+/readings into {engine.url.render_as_string(hide_password=True)}")
    try:
        bridge.run_forever()
    except KeyboardInterrupt:
        click.echo(f"Stopped after storing {bridge.stored} readings.")


@click.command("ingest-weather")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB_OPTION
def ingest_weather_command(paths: tuple[Path, ...], database_url: str | None) -> None:
    """Ingest CSV/JSON files of weather rows (device, timestamp, temperature_c, ghi_w_m2, …; docs/onboarding.md)."""
    from oracle.ingest.weather import ingest_weather

    engine = init_db(get_engine(database_url))
    for path in paths:
        try:
            report = ingest_weather(path, engine)
        except UnreadableFile as error:
            raise click.ClickException(f"{path}: {error}") from error
        click.echo(report.summary(path.name))
