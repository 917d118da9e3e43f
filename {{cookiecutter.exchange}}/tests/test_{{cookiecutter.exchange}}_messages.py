{% include cookiecutter.__flavour ~ "/test_messages.py.jinja" %}
