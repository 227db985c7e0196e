"""``logship doctor``'s checks: what the deploy needs, each found ok, worth a look, or failing, with what to do next."""
