from __future__ import annotations

from django.urls import path

from apps.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<slug:slug>/", views.client_detail, name="detail"),
    path("<slug:slug>/edit/", views.client_edit, name="edit"),
    path("<slug:slug>/archive/", views.client_archive, name="archive"),
    path("<slug:slug>/unarchive/", views.client_unarchive, name="unarchive"),
    path("<slug:slug>/team/add/", views.member_add, name="member_add"),
    path("<slug:slug>/team/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
]
