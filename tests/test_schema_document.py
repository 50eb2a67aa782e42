"""The whole OpenAPI document: generated without a warning, and valid OpenAPI 3."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_whole_schema_validates_with_warnings_as_errors(tmp_path):
    target = tmp_path / "schema.yaml"
    # --validate checks the document against the OpenAPI 3 meta-schema; --fail-on-warn turns
    # every generator warning (an unresolvable field type, a missing serializer…) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    document = yaml.safe_load(target.read_text())
    assert document["openapi"].startswith("3.")
    assert any(path.startswith("/api/v1/workspaces/") for path in document["paths"])
