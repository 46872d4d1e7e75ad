from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Cursor pagination: pages stay fast and stable deep into a large table, and a prospect
    added while a client pages is neither skipped nor shown twice."""

    ordering = "-pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CampaignPagination(ApiCursorPagination):
    ordering = "name"
