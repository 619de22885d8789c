"""The change history admin page under a Chinese name: pghistory's own Events model is named in
English, and its options live in a migration of the package, so a proxy carries ours."""

import pghistory.models

LABELS = {"snapshot": "快照", "insert": "新增", "update": "修改", "delete": "删除"}


class HistoryEvent(pghistory.models.Events):
    class Meta:
        proxy = True
        verbose_name = "变更历史"
        verbose_name_plural = "变更历史"

    def __str__(self):
        return f"{self.pgh_obj_model} {self.pgh_obj_id} {LABELS.get(self.pgh_label, self.pgh_label)}"
