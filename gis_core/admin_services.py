"""Admin pages that write through the service layer (the one write path), never model.save().

The form calls `model_admin.save_through_services(request, form, change)` while it validates, so a
ServiceError becomes form errors, and save_model only picks up what the service wrote."""

from django import forms
from django.db import transaction

from gis_core.errors import ServiceError


def errors_to_form(form, errors: dict):
    for field, message in errors.items():
        if field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, f"{field}: {message}" if field != "non_field_errors" else message)


class ServiceBackedForm(forms.ModelForm):
    request = None
    model_admin = None

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.model_admin is None:
            return
        change = self.instance.pk is not None and not self.instance._state.adding
        try:
            with transaction.atomic():
                self.instance = self.model_admin.save_through_services(self.request, self, change)
        except ServiceError as exc:
            errors_to_form(self, exc.errors)
        self.service_saved = not self.errors


class ServiceBackedAdmin:
    """Mixin for a ModelAdmin whose form is a ServiceBackedForm; define save_through_services."""

    def save_through_services(self, request, form, change: bool):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request, "model_admin": self})

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change):
        if not getattr(form, "service_saved", False):  # a form built outside get_form
            obj = self.save_through_services(request, form, change)
            form.instance = obj
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The service wrote the object and its fields; only inline formsets remain to be saved.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class ReadOnlyAdmin:
    """Mixin for records only the system writes (history, counters, transfers): view, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
