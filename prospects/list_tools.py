"""Tools other apps add to the prospect list's selection bar (bulk actions, campaign adds).

``prospects`` sits below the apps that act on many prospects at once (``automation``), so it
cannot import them; such an app registers a template at start-up (its ``AppConfig.ready``)
with :func:`add_list_tool`, and the list includes each one inside its selection form — the
template's buttons submit the selected rows (``select``) and the list's filter (``querystring``).
"""

LIST_TOOLS: list[str] = []


def add_list_tool(template_name: str) -> None:
    if template_name not in LIST_TOOLS:
        LIST_TOOLS.append(template_name)
