def test_owner_lands_on_dashboard(owner, client_for):
    response = client_for(owner).get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/dashboard/"
