"""Platform views: sign-in pages and the error pages."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_lazy as _


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("登录")}


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else _("您没有权限执行此操作。")
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No request context: context processors may need the database, which may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())
