from __future__ import annotations

from django.urls import path

from apps.staff import views
from apps.staff.handoff import views as handoff

app_name = "staff"
urlpatterns = [
    path("staff/", views.staff_list, name="list"),
    path("staff/invite/", views.staff_invite, name="invite"),
    path("staff/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("staff/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("staff/handoff/", handoff.handoff_start, name="handoff"),
    path("staff/handoff/review/", handoff.handoff_review, name="handoff_review"),
    path("staff/handoff/confirm/", handoff.handoff_confirm, name="handoff_confirm"),
    path("staff/handoff/run/", handoff.handoff_run, name="handoff_run"),
    path("staff/handoffs/<int:pk>/", handoff.handoff_report, name="handoff_report"),
    path("staff/<int:pk>/role/", views.user_role, name="role"),
    path("staff/<int:pk>/deactivate/", views.user_deactivate, name="deactivate"),
    path("staff/<int:pk>/reactivate/", views.user_reactivate, name="reactivate"),
    path("invitations/<str:token>/", views.invitation_accept, name="accept"),
    path("profile/", views.profile, name="profile"),
]
