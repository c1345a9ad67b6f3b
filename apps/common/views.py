from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "common/dashboard.html", {})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
