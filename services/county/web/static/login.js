// Sign-in: POST /api/v1/session sets the session cookie (HttpOnly: this script never sees it) and
// answers the CSRF value, kept for the dashboard's requests that change anything (sign-out).
export const CSRF_KEY = "tongxin:csrf";

function target() {
  // Back to where the user was, on this site only (a path, never another origin).
  const next = new URLSearchParams(location.search).get("next") || "./";
  return next.startsWith("/") && !next.startsWith("//") ? next : "./";
}

const form = document.getElementById("sign-in");
const error = document.getElementById("sign-in-error");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  const response = await fetch("api/v1/session", {
    method: "POST",
    headers: { "content-type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
  });
  if (response.ok) {
    localStorage.setItem(CSRF_KEY, (await response.json()).csrf);
    location.assign(target());
    return;
  }
  const wait = response.headers.get("retry-after");
  error.textContent =
    response.status === 401 ? "用户名或密码不对。"
    : response.status === 429 ? `尝试次数过多，请 ${wait} 秒后再试。`
    : response.status === 403 ? "请从县里的看板页面登录。"
    : response.status === 422 ? "请填写用户名（字母、数字、- 和 _）和密码。"
    : `登录失败（${response.status}）。`;
  error.hidden = false;
});
