"""Page numbers by default (the lists' existing contract: `count`, `next`, `previous`), or cursor
pages on request: `?cursor=` (empty for the first page, then the `next` link) walks a list by id,
at the same cost at any depth (22,116 pairs x 20 critics), and never skips or repeats a row
when rows are added meanwhile."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class ByIdCursor(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class PageOrCursor(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def _delegate_for(self, request):
        if "cursor" not in request.query_params:
            return None
        cursor = ByIdCursor()
        cursor.page_size, cursor.max_page_size = self.page_size, self.max_page_size
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        self.delegate = self._delegate_for(request)
        if self.delegate is not None:
            return self.delegate.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.delegate is not None:
            return self.delegate.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_schema_operation_parameters(self, view):
        cursor = ByIdCursor().get_schema_operation_parameters(view)
        for param in cursor:
            if param["name"] == "cursor":
                param["description"] = "Cursor pages by id: empty for the first page."
        names = {p["name"] for p in super().get_schema_operation_parameters(view)}
        return super().get_schema_operation_parameters(view) + [
            p for p in cursor if p["name"] not in names
        ]
