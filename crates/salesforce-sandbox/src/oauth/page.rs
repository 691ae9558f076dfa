//! The plain HTML login and consent page of the authorize endpoint.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The login and consent form; `hidden` are the authorize parameters to carry through.
pub fn login_page(
    app_name: &str,
    username: &str,
    hidden: &[(String, String)],
    error: Option<&str>,
) -> String {
    let fields: String = hidden
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Login | sfmcp Sandbox</title></head>
<body>
<h1>sfmcp Sandbox</h1>
<p><strong>{app}</strong> is asking to access your data (api, refresh_token).</p>
{error}
<form method="post" action="/services/oauth2/authorize">
{fields}<label>Username <input name="username" value="{user}"></label>
<label>Password <input name="password" type="password"></label>
<button name="action" value="allow">Allow</button>
<button name="action" value="deny">Deny</button>
</form>
</body></html>
"#,
        app = escape(app_name),
        user = escape(username),
    )
}
