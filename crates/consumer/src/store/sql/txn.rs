//! [`SqlTxn`]: a database transaction that carries the application's writes and the consumed
//! positions together (exactly-once processing into SQL).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::Transaction;

use rafka_wire::TopicPartition;

use super::backend::{SqlBackend, Statements};
use super::{sql_error, upsert_all, StoreError};
use crate::store::GroupOffsets;

/// A transaction of a [`SqlOffsetStore`](super::SqlOffsetStore)'s database that carries the user's writes and the
/// positions together (see [`SqlOffsetStore::begin`](super::SqlOffsetStore::begin)).
///
/// Dereferences to the backend's connection, so sqlx queries run inside it with
/// `.execute(&mut *txn)`. Dropping it without [`SqlTxn::commit`] rolls everything back.
pub struct SqlTxn<DB: SqlBackend> {
    pub(super) tx: Transaction<'static, DB>,
    pub(super) statements: Arc<Statements>,
}

impl<DB: SqlBackend> fmt::Debug for SqlTxn<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlTxn")
            .field("backend", &<DB as sqlx::Database>::NAME)
            .field("table", &self.statements.table)
            .finish_non_exhaustive()
    }
}

impl<DB: SqlBackend> SqlTxn<DB> {
    /// Writes positions for `group_id` in this transaction; they are stored if and only if it
    /// commits. Nothing is written if any offset is negative.
    ///
    /// # Errors
    /// [`StoreError::InvalidOffset`] for a negative offset; [`StoreError::Sql`] if a statement
    /// fails (roll back then).
    pub async fn save_offsets(
        &mut self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        upsert_all::<DB>(&mut self.tx, &self.statements, group_id, offsets).await
    }

    /// [`SqlTxn::save_offsets`] of a group's positions, typically
    /// `consumer.positions_after(&batch)?`: the consumer knows its `group.id`, so it is not
    /// repeated here.
    ///
    /// # Errors
    /// As [`SqlTxn::save_offsets`].
    pub async fn save_positions(&mut self, positions: &GroupOffsets) -> Result<(), StoreError> {
        self.save_offsets(&positions.group_id, &positions.offsets)
            .await
    }

    /// Commits the user's writes and the positions together.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if `COMMIT` fails; the database then keeps neither.
    pub async fn commit(self) -> Result<(), StoreError> {
        let table = self.statements.table.clone();
        self.tx
            .commit()
            .await
            .map_err(|e| sql_error::<DB>("commit", &table, e))
    }

    /// Rolls back the user's writes and the positions together.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if `ROLLBACK` fails (the server discards the transaction anyway when
    /// the connection closes).
    pub async fn rollback(self) -> Result<(), StoreError> {
        let table = self.statements.table.clone();
        self.tx
            .rollback()
            .await
            .map_err(|e| sql_error::<DB>("rollback", &table, e))
    }

    /// The underlying sqlx transaction, for APIs that want one.
    pub fn transaction(&mut self) -> &mut Transaction<'static, DB> {
        &mut self.tx
    }
}

impl<DB: SqlBackend> Deref for SqlTxn<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: SqlBackend> DerefMut for SqlTxn<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
