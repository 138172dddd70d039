"""Billing of legal entities: tariffs, statements, invoices and credit notes, exports."""
