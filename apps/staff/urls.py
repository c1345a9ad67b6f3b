from __future__ import annotations

from django.urls import path

from apps.staff import views

app_name = "staff"
urlpatterns = [
    path("staff/", views.staff_list, name="list"),
    path("staff/invite/", views.staff_invite, name="invite"),
    path("staff/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("staff/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("staff/<int:pk>/role/", views.user_role, name="role"),
    path("staff/<int:pk>/deactivate/", views.user_deactivate, name="deactivate"),
    path("staff/<int:pk>/reactivate/", views.user_reactivate, name="reactivate"),
    path("invitations/<str:token>/", views.invitation_accept, name="accept"),
    path("profile/", views.profile, name="profile"),
]
