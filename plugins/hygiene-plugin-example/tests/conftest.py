# hygiene's test kit: run_rules, the make_deals / hygiene_config / hygiene_cli fixtures,
# and every *.rulecases.toml file below this folder collected as tests.
pytest_plugins = ["hygiene.testing"]
