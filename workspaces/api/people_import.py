"""``POST /workspaces/{id}/people/import``: people from a CSV file (see ``workspaces/importing/``)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from birthdaybuddy.api.fields import QueryBooleanField
from birthdaybuddy.errors import ApplicationError
from workspaces import importing
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.models import Person

PERMISSIONS = "**Permissions:** workspace owners and admins (and staff). Members get 403, non-members 404."


def _too_large(limit: int) -> ApplicationError:
    return ApplicationError(f"The file is too large (the limit is {limit} bytes).", code="too_large", status=413)


class CSVBodyParser(BaseParser):
    """A ``text/csv`` request body, as bytes (decoding is the importer's business: it names the problem)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        if stream is None:
            return b""
        limit = settings.MAX_UPLOAD_BODY_BYTES
        data = stream.read(limit + 1)  # a body without Content-Length got past the middleware's check
        if len(data) > limit:
            raise _too_large(limit)
        return data


class ImportOptionsSerializer(serializers.Serializer):
    partial = QueryBooleanField(default=False, help_text="Import the good rows and skip (and report) the bad ones.")
    dry_run = QueryBooleanField(default=False, help_text="Check and count everything; write nothing.")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file (UTF-8).")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row in the file; the header is row 1, as in a spreadsheet.")
    field = serializers.CharField(allow_null=True, help_text="The column, or null for the row as a whole.")
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Rows with data in the file.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Existing people the file matched without changing anything.")
    skipped = serializers.IntegerField(help_text="Bad rows left out (partial imports only).")
    dry_run = serializers.BooleanField()
    partial = serializers.BooleanField()
    error_count = serializers.IntegerField()
    errors_truncated = serializers.BooleanField(help_text="Only the first 1,000 errors are listed.")
    errors = RowErrorSerializer(many=True)


class ImportRejectedSerializer(serializers.Serializer):
    """Why nothing was imported. ``errors`` lists bad rows (a list) or, for bad query options, fields (an object)."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`invalid_rows`, `invalid_headers`, `invalid_encoding`, `invalid_csv`, `empty_file`, "
        "`too_many_rows`, `file_required` (or `invalid` for a bad option)."
    )
    errors = serializers.JSONField(required=False, help_text="`[{row, field, message}]` for `invalid_rows`.")
    error_count = serializers.IntegerField(required=False)
    errors_truncated = serializers.BooleanField(required=False)
    expected_headers = serializers.ListField(child=serializers.CharField(), required=False)
    required_headers = serializers.ListField(child=serializers.CharField(), required=False)
    unknown_headers = serializers.ListField(child=serializers.CharField(), required=False)
    missing_headers = serializers.ListField(child=serializers.CharField(), required=False)
    max_rows = serializers.IntegerField(required=False)
    line = serializers.IntegerField(required=False)


COLUMNS_DOC = """
Columns (header row required; case-insensitive, any order):

| column | |
|---|---|
| `name` | required |
| `email` | matched case-insensitively to find an existing person |
| `phone` | E.164 (`+14155550100`); matched when the email does not match |
| `slack_user_id` | a Slack member id such as `U012ABCDEF` |
| `birthday` | `YYYY-MM-DD`, or `--MM-DD` / `MM-DD` without a year — or the three columns below |
| `birth_month`, `birth_day`, `birth_year` | numbers; the year is optional |
| `joined_on` | `YYYY-MM-DD` (work anniversary) |
| `show_age` | `true`/`false` (also `yes`/`no`, `1`/`0`) |
| `preferred_channels`, `opted_out_channels` | e.g. `sms;email` (slack, email, sms, whatsapp) |
"""


@extend_schema(tags=["people"], parameters=[WORKSPACE_ID])
class PersonImportView(WorkspaceScopedMixin, generics.GenericAPIView):
    """Imports people from a CSV file."""

    queryset = Person.objects.all()
    serializer_class = ImportResultSerializer
    parser_classes = (MultiPartParser, CSVBodyParser)

    @extend_schema(
        operation_id="workspaces_people_import",
        summary="Import people from CSV",
        description=(
            "Upload a UTF-8 CSV file (a BOM is fine) as the multipart field `file`, or as a `text/csv` body "
            "(up to 10 MiB and 100,000 rows). Every row is checked first, with the People API's rules; each "
            "bad row is reported with its row number (the header is row 1), column and message. If any row "
            "is bad nothing is imported (400 `invalid_rows`) — unless `partial=1`: then the good rows are "
            "imported and the bad ones reported as `skipped`.\n\n"
            "Idempotent: a row updates the person with the same email (case-insensitive), else the same "
            "phone, instead of creating another; importing a file twice changes nothing. Empty cells keep "
            "a person's current values; two rows about one person are an error. A wrong header row, a "
            "file that is not UTF-8, an empty file or too many rows is a 400 naming the problem; a larger "
            f"body is 413.\n{COLUMNS_DOC}\n{PERMISSIONS}"
        ),
        parameters=[
            OpenApiParameter("partial", OpenApiTypes.BOOL, description="Import the good rows, skip the bad ones."),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Check and count; write nothing."),
        ],
        request={"multipart/form-data": ImportUploadSerializer, "text/csv": OpenApiTypes.BINARY},
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(ImportRejectedSerializer, description="Nothing was imported; see `code`."),
        },
        examples=[
            OpenApiExample(
                "Bad rows",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "1 row of 3 has errors; nothing was imported. Fix them, or import only the good "
                    "rows with partial=1.",
                    "code": "invalid_rows",
                    "errors": [{"row": 3, "field": "phone", "message": "'12345' is not a valid phone number."}],
                    "error_count": 1,
                    "errors_truncated": False,
                },
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        options = ImportOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        data, filename = self._upload(request)
        result = importing.people_import(
            workspace=self.workspace,
            data=data,
            partial=options.validated_data["partial"],
            dry_run=options.validated_data["dry_run"],
            actor=request.user,
            source="api",
            filename=filename,
        )
        return Response(ImportResultSerializer(result.as_dict()).data)

    def _upload(self, request) -> tuple[bytes, str | None]:
        body = request.data
        if isinstance(body, bytes):
            return body, None
        upload = request.FILES.get("file")
        if upload is None:
            raise importing.ImportRejected(
                "Upload the CSV file as the multipart field `file` (or send it as a text/csv body).",
                code="file_required",
            )
        limit = settings.MAX_UPLOAD_BODY_BYTES
        if upload.size is not None and upload.size > limit:
            raise _too_large(limit)
        return upload.read(), upload.name
