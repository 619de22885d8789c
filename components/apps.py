from django.apps import AppConfig


class ComponentsConfig(AppConfig):
    name = "components"
    verbose_name = "城市部件"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from . import roles

        def groups_changed(sender, instance, **kwargs):
            roles.forget_roles(getattr(instance, "pk", None))

        m2m_changed.connect(
            groups_changed, sender=get_user_model().groups.through, weak=False, dispatch_uid="gridcity-forget-roles"
        )
