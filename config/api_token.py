"""POST /api/v1/token/: a script trades a username and password for its API token, behind the
same brute-force brake as the login form."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from config.auth import login_blocked, login_failed


class TokenView(ObtainAuthToken):
    @extend_schema(
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
    )
    def post(self, request, *args, **kwargs):
        if login_blocked(request):
            return Response({"detail": "Too many failed attempts; wait a few minutes."}, 429)
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            login_failed(request)
            return Response(serializer.errors, status=400)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
