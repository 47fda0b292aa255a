"""The KCL lgc 0.1 reads from settings() and schema() (kclvm, as lgc 0.1.x embeds it).

- `lgc services add` reads `schema Configuration`: each attribute is a setting,
  its default what a service starts with (lgc warns for one without), `@info(sensitive=True)`
  a hidden prompt; it then checks the settings against the schema and fails when
  they break it, so every default here must pass the checks.
- `lgc validate` checks each service's settings against `Configuration` and each
  rule file's `rules.<plugin name>` parameters against `schema Rule`: a KCL schema
  is closed, so a parameter it does not declare is an error.

Keep both in step with plugin_logic's SETTINGS_SCHEMA and DETECTION_SCHEMA (the
fields the plugin itself reads): tests/test_kcl.py checks that they agree.
"""

CONFIGURATION = '''schema Configuration:
    """Service settings

    Attributes
    ----------
    url : str, required
        Base URL of the SIEM API (make test-siem serves http://127.0.0.1:8080)
    token : str, required
        API token
    timeout : int, optional
        Request timeout in seconds
    severity : str, optional
        Severity the SIEM gives rules that set none
    """
    url: str = "http://127.0.0.1:8080"
    @info(sensitive=True)
    token: str = ""
    timeout: int = 30
    severity: "low" | "medium" | "high" | "critical" = "medium"

    check:
        url.startswith("http://") or url.startswith("https://"), "url must start with http:// or https://"
        1 <= timeout <= 60, "timeout must be between 1 and 60 seconds"
'''

RULE = '''schema Rule:
    """A detection rule's parameters (the rule file's rules.<plugin name>)

    Attributes
    ----------
    query : str, required
        Search query the rule runs
    severity : str, optional
        Rule severity
    enabled : bool, optional
        Whether the rule is active
    """
    query: str
    severity?: "low" | "medium" | "high" | "critical"
    enabled?: bool = True

    check:
        len(query.strip()) > 0, "query must not be empty"
'''
