def test_home_renders_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Plaza" in response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_member_can_start_a_thread(app, member_client, make_category):
    make_category("general")
    response = member_client.post(
        "/c/general/new", data={"title": "Hello there", "body": "**bold** words"}
    )
    assert response.status_code == 302
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>bold</strong>" in page
