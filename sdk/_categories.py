"""The three category base adapters and their standard operations.

A connector subclasses one of these and implements the operations its
vendor supports; the scope of each standard operation is fixed here so that
a tenant's grant means the same thing for every vendor in a category.
An override may add ``reads_over_post`` (by re-declaring ``@operation`` with
the same scope) but may not change the scope.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from sdk._connector import Category, Connector
from sdk._models import Account, BillingCustomer, Contact, Invoice, Money, Note, Subscription, Ticket
from sdk._operations import operation

__all__ = ["BillingConnector", "CRMConnector", "TicketingConnector"]

RecordId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^/\s?#%]+$")]
"""A vendor record id: never a path separator, query or escape, so it cannot re-route a URL."""
Phone = Annotated[str, Field(min_length=3, max_length=32)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Limit = Annotated[int, Field(ge=1, le=100)]


def _not_implemented(name: str) -> NotImplementedError:
    return NotImplementedError(f"this connector does not implement {name}")


class CRMConnector(Connector):
    """Contacts, accounts and notes."""

    category: ClassVar[Category] = Category.CRM
    _sdk_base: ClassVar[bool] = True

    @operation("contacts:read")
    async def find_contacts(self, phone: Phone | None = None, email: Email | None = None) -> list[Contact]:
        """Find contacts whose phone number or email matches the caller's."""
        raise _not_implemented("find_contacts")

    @operation("contacts:read")
    async def get_contact(self, contact_id: RecordId) -> Contact:
        """Get one contact by its CRM id."""
        raise _not_implemented("get_contact")

    @operation("accounts:read")
    async def get_account(self, account_id: RecordId) -> Account:
        """Get the company or organisation a contact belongs to."""
        raise _not_implemented("get_account")

    @operation("notes:write")
    async def create_note(self, contact_id: RecordId, body: Text) -> Note:
        """Write a note (such as a call summary) on a contact."""
        raise _not_implemented("create_note")


class TicketingConnector(Connector):
    """Requesters, tickets and comments."""

    category: ClassVar[Category] = Category.TICKETING
    _sdk_base: ClassVar[bool] = True

    @operation("tickets:read")
    async def list_tickets(
        self, phone: Phone | None = None, email: Email | None = None, limit: Limit = 10
    ) -> list[Ticket]:
        """List the caller's tickets, open ones first, newest first within each group."""
        raise _not_implemented("list_tickets")

    @operation("tickets:read")
    async def get_ticket(self, ticket_id: RecordId) -> Ticket:
        """Get one ticket with its comments."""
        raise _not_implemented("get_ticket")

    @operation("tickets:write")
    async def create_ticket(
        self,
        subject: Annotated[str, Field(min_length=1, max_length=500)],
        body: Text,
        email: Email | None = None,
        phone: Phone | None = None,
    ) -> Ticket:
        """Open a new ticket for the caller."""
        raise _not_implemented("create_ticket")

    @operation("comments:write")
    async def add_comment(self, ticket_id: RecordId, body: Text, public: bool = False) -> Ticket:
        """Add a public reply or an internal note to a ticket."""
        raise _not_implemented("add_comment")


class BillingConnector(Connector):
    """Customers, balances, invoices and subscriptions."""

    category: ClassVar[Category] = Category.BILLING
    _sdk_base: ClassVar[bool] = True

    @operation("customers:read")
    async def find_customers(
        self, phone: Phone | None = None, email: Email | None = None
    ) -> list[BillingCustomer]:
        """Find billing customers whose phone number or email matches the caller's."""
        raise _not_implemented("find_customers")

    @operation("customers:read", cacheable=False)
    async def get_balance(self, customer_id: RecordId) -> Money:
        """Get what the customer owes now (positive) or holds in credit (negative)."""
        raise _not_implemented("get_balance")

    @operation("invoices:read")
    async def list_invoices(self, customer_id: RecordId, limit: Limit = 10) -> list[Invoice]:
        """List the customer's invoices, open and overdue ones first."""
        raise _not_implemented("list_invoices")

    @operation("subscriptions:read")
    async def list_subscriptions(self, customer_id: RecordId, limit: Limit = 10) -> list[Subscription]:
        """List the customer's subscriptions."""
        raise _not_implemented("list_subscriptions")

    @operation("invoices:write")
    async def resend_invoice(self, invoice_id: RecordId) -> Invoice:
        """Send the invoice to the customer again."""
        raise _not_implemented("resend_invoice")
