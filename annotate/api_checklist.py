"""A pair's current checklist through the API, with optimistic locking.

GET answers an ETag ("<checklist id>.<version>"); PUT and PATCH need If-Match with that ETag:
412 when it is stale (someone saved since), 428 without it. The same service as the editor."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import REVIEWER, get_pair, has_role
from annotate.models import Checklist
from annotate.services.checklists import ChecklistConflict, checklist_save


class ChecklistSerializer(serializers.Serializer):
    pair = serializers.IntegerField(source="pair_id")
    checklist = serializers.IntegerField(source="pk")
    slot = serializers.IntegerField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    atoms = serializers.ListField(child=serializers.CharField())


class ChecklistWriteSerializer(serializers.Serializer):
    atoms = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    append = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="PATCH: atoms to add at the end"
    )


def etag(checklist: Checklist) -> str:
    return f'"{checklist.pk}.{checklist.version}"'


def _current(user, pair_id: int) -> Checklist:
    """The caller's own checklist on the pair, else the pair's reference checklist (slot 0)."""
    pair = get_pair(user, pair_id)
    checklists = Checklist.objects.select_related("current", "owner").filter(pair=pair)
    found = checklists.filter(owner=user).first() or checklists.filter(slot=0).first()
    if found is None:
        raise NotFound("This pair has no checklist yet.")
    return found


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=True, description="the ETag of a GET"
)
WRITE_RESPONSES = {
    200: ChecklistSerializer,
    412: OpenApiResponse(description="If-Match is stale: someone saved a newer version"),
    428: OpenApiResponse(description="If-Match is missing"),
}


class PairChecklistView(APIView):
    """Read and write a pair's current checklist (yours if you hold one, else slot 0)."""

    @extend_schema(responses={200: ChecklistSerializer})
    def get(self, request, pair_id: int):
        checklist = _current(request.user, pair_id)
        return self._answer(checklist)

    @extend_schema(
        request=ChecklistWriteSerializer, parameters=[IF_MATCH], responses=WRITE_RESPONSES
    )
    def put(self, request, pair_id: int):
        return self._write(request, pair_id, partial=False)

    @extend_schema(
        request=ChecklistWriteSerializer, parameters=[IF_MATCH], responses=WRITE_RESPONSES
    )
    def patch(self, request, pair_id: int):
        return self._write(request, pair_id, partial=True)

    def _answer(self, checklist, code=200):
        response = Response(ChecklistSerializer(checklist).data, status=code)
        response["ETag"] = etag(checklist)
        return response

    def _write(self, request, pair_id: int, *, partial: bool):
        checklist = _current(request.user, pair_id)
        mine = checklist.owner_id == request.user.pk
        if not mine and not has_role(request.user, REVIEWER, checklist.pair.dataset_id):
            raise PermissionDenied("Only its holder or a reviewer writes this checklist.")
        expected = request.headers.get("If-Match")
        if not expected:
            return Response({"detail": "If-Match is required"}, status=428)
        if expected.removeprefix("W/") != etag(checklist):
            return self._stale(checklist)
        body = ChecklistWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        atoms = body.validated_data.get("atoms")
        if atoms is None and not partial:
            raise ValidationError({"atoms": "PUT needs the whole list of atoms"})
        atoms = list(checklist.atoms if atoms is None else atoms)
        atoms += body.validated_data.get("append", [])
        try:
            checklist_save(
                checklist_id=checklist.pk,
                user=request.user,
                atoms=atoms,
                version=checklist.version,
                source="api",
                as_reviewer=not mine,
            )
        except ChecklistConflict as conflict:
            return self._stale(conflict.checklist)
        except DjangoValidationError as exc:
            raise ValidationError({"atoms": exc.messages}) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return self._answer(_current(request.user, pair_id))

    def _stale(self, checklist):
        checklist.refresh_from_db()
        response = Response(
            {"detail": "stale If-Match: GET the checklist again", "version": checklist.version},
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = etag(checklist)
        return response
