"""`indico anonymize user <email>`: anonymize a user and their registrations.

Marks the user deleted, replaces names, emails, phone, address and affiliation with
random values, removes their login identities, and replaces the names, email and the
text answers of their event registrations. An unknown email is not an error.
"""

import secrets

import click

from indico.cli.core import cli_group
from indico.core import signals
from indico.core.db import db
from indico.core.plugins import IndicoPlugin
from indico.modules.events.registration.models.registrations import Registration
from indico.modules.users import User


class AnonymizePlugin(IndicoPlugin):
    """Anonymize

    Adds `indico anonymize user` for anonymizing users on request.
    """

    configurable = False

    def init(self):
        super().init()
        self.connect(signals.plugin.cli, self._extend_indico_cli)

    def _extend_indico_cli(self, sender, **kwargs):
        return cli


def _random(prefix):
    return f'{prefix}-{secrets.token_hex(6)}'


@cli_group(name='anonymize')
def cli():
    """Anonymize data."""


@cli.command()
@click.argument('email')
def user(email):
    """Anonymize the user with EMAIL (any of their addresses)."""
    email = email.strip().lower()
    target = User.query.filter(User.all_emails == email).first()
    if target is None:
        click.echo(f'User with email {email} not found')
        return
    target.first_name = _random('Anonymous')
    target.last_name = _random('User')
    target.affiliation = ''
    target.phone = ''
    target.address = ''
    target.secondary_emails = set()
    target.email = f'{_random("anonymized")}@anonymized.invalid'
    target.is_deleted = True
    for identity in list(target.identities):
        db.session.delete(identity)
    for registration in Registration.query.filter_by(user_id=target.id):
        registration.first_name = _random('Anonymous')
        registration.last_name = _random('User')
        registration.email = f'{_random("anonymized")}@anonymized.invalid'
        for item in registration.data:
            if isinstance(item.data, str) and item.data:
                item.data = _random('redacted')
    db.session.commit()
    click.echo(f'User with email {email} correctly anonymized')
