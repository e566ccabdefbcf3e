"""Reading back the usage events a test's code recorded on the local stack."""

from infra.usage.warehouse import UsageWarehouse


def stored_events(adapters) -> list[dict]:
    """Every event in the data folder's usage files, as the reports load them, oldest first."""
    settings = adapters.settings
    return UsageWarehouse(settings.usage_folder, settings.usage_path).events()
