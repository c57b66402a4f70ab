//! The initial schema: campaigns, commission groups and tier rates, affiliates and
//! their tree, memberships, coupons, clicks, conversions, commissions, payouts,
//! plugin packages and per-campaign bindings, operator keys, and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(name: &str, from: (&'static str, &'static str), to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to, "id").on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn unique(name: &str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

/// An index on `columns` of `table` (later migrations use it too).
pub(crate) fn index(name: &str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("operator_keys")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_uniq("key_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("campaigns")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_len("currency", 3))
                .col(integer("cookie_days"))
                .col(string("attribution"))
                .col(boolean("include_shipping"))
                .col(boolean("include_tax"))
                .col(boolean("subtract_discount"))
                .col(boolean("store_zero_orders"))
                .col(boolean("store_zero_commissions"))
                .col(integer("hold_days"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("commission_groups")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("name"))
                .col(boolean("is_default"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_groups_campaign", ("commission_groups", "campaign_id"), "campaigns"))
                .to_owned(),
            Table::create()
                .table("tier_rates")
                .col(big_pk_auto("id"))
                .col(big_integer("group_id"))
                .col(string("commission_type"))
                .col(integer("tier"))
                .col(string("kind"))
                .col(string("value"))
                .foreign_key(&mut fk("fk_rates_group", ("tier_rates", "group_id"), "commission_groups"))
                .to_owned(),
            Table::create()
                .table("affiliates")
                .col(big_pk_auto("id"))
                .col(big_integer_null("parent_id"))
                .col(string("name"))
                .col(string_uniq("email"))
                .col(string("password_hash"))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("first_login_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_affiliates_parent", ("affiliates", "parent_id"), "affiliates"))
                .to_owned(),
            Table::create()
                .table("memberships")
                .col(big_pk_auto("id"))
                .col(big_integer("affiliate_id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("group_id"))
                .foreign_key(&mut fk("fk_memberships_affiliate", ("memberships", "affiliate_id"), "affiliates"))
                .foreign_key(&mut fk("fk_memberships_campaign", ("memberships", "campaign_id"), "campaigns"))
                .foreign_key(&mut fk("fk_memberships_group", ("memberships", "group_id"), "commission_groups"))
                .to_owned(),
            Table::create()
                .table("coupons")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("affiliate_id"))
                .col(string("code"))
                .foreign_key(&mut fk("fk_coupons_campaign", ("coupons", "campaign_id"), "campaigns"))
                .foreign_key(&mut fk("fk_coupons_affiliate", ("coupons", "affiliate_id"), "affiliates"))
                .to_owned(),
            Table::create()
                .table("clicks")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("affiliate_id"))
                .col(string("visitor"))
                .col(text_null("landing_url"))
                .col(text_null("referrer"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_clicks_campaign", ("clicks", "campaign_id"), "campaigns"))
                .foreign_key(&mut fk("fk_clicks_affiliate", ("clicks", "affiliate_id"), "affiliates"))
                .to_owned(),
            Table::create()
                .table("conversions")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(big_integer_null("affiliate_id"))
                .col(big_integer_null("click_id"))
                .col(string("kind"))
                .col(string_null("action_code"))
                .col(string_null("order_id"))
                .col(string_null("product_id"))
                .col(string_null("coupon"))
                .col(string_len("currency", 3))
                .col(big_integer("total_minor"))
                .col(big_integer("shipping_minor"))
                .col(big_integer("tax_minor"))
                .col(big_integer("discount_minor"))
                .col(big_integer("commissionable_minor"))
                .col(big_integer("refunded_minor"))
                .col(json("custom_fields"))
                .col(string("status"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_conversions_campaign", ("conversions", "campaign_id"), "campaigns"))
                .to_owned(),
            Table::create()
                .table("payouts")
                .col(big_pk_auto("id"))
                .col(big_integer("affiliate_id"))
                .col(string_len("currency", 3))
                .col(big_integer("amount_minor"))
                .col(integer("commission_count"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_payouts_affiliate", ("payouts", "affiliate_id"), "affiliates"))
                .to_owned(),
            Table::create()
                .table("commissions")
                .col(big_pk_auto("id"))
                .col(big_integer_null("conversion_id"))
                .col(big_integer("campaign_id"))
                .col(big_integer("affiliate_id"))
                .col(integer("tier"))
                .col(string("commission_type"))
                .col(big_integer("amount_minor"))
                .col(string_len("currency", 3))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("hold_until"))
                .col(string_null("waiting_for"))
                .col(string_null("product_id"))
                .col(string_null("plugin_id"))
                .col(string_null("plugin_version"))
                .col(text("explanation"))
                .col(big_integer_null("reverses_id"))
                .col(big_integer_null("payout_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_commissions_conversion", ("commissions", "conversion_id"), "conversions"))
                .foreign_key(&mut fk("fk_commissions_affiliate", ("commissions", "affiliate_id"), "affiliates"))
                .foreign_key(&mut fk("fk_commissions_payout", ("commissions", "payout_id"), "payouts"))
                .foreign_key(&mut fk("fk_commissions_reverses", ("commissions", "reverses_id"), "commissions"))
                .to_owned(),
            Table::create()
                .table("plugin_packages")
                .col(string("digest").primary_key())
                .col(string("plugin_id"))
                .col(string("version"))
                .col(json("manifest"))
                .col(blob("bytes"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("installed_at"))
                .to_owned(),
            Table::create()
                .table("plugin_bindings")
                .col(big_pk_auto("id"))
                .col(big_integer("campaign_id"))
                .col(string("plugin_id"))
                .col(boolean("enabled"))
                .col(json("config"))
                .col(integer("position"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_bindings_campaign", ("plugin_bindings", "campaign_id"), "campaigns"))
                .to_owned(),
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("entity"))
                .col(string("entity_id"))
                .col(json_null("before"))
                .col(json_null("after"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            unique("ux_groups_campaign_name", "commission_groups", &["campaign_id", "name"]),
            unique("ux_rates_group_type_tier", "tier_rates", &["group_id", "commission_type", "tier"]),
            unique("ux_memberships_affiliate_campaign", "memberships", &["affiliate_id", "campaign_id"]),
            unique("ux_coupons_campaign_code", "coupons", &["campaign_id", "code"]),
            // One order id per campaign: a duplicate, even a concurrent one, is refused by the database.
            unique("ux_conversions_campaign_order", "conversions", &["campaign_id", "order_id"]),
            unique("ux_packages_plugin_version", "plugin_packages", &["plugin_id", "version"]),
            unique("ux_bindings_campaign_plugin", "plugin_bindings", &["campaign_id", "plugin_id"]),
            index("ix_affiliates_parent", "affiliates", &["parent_id"]),
            index("ix_commissions_affiliate_status", "commissions", &["affiliate_id", "status"]),
            index("ix_commissions_conversion", "commissions", &["conversion_id"]),
            index("ix_commissions_hold", "commissions", &["status", "hold_until"]),
            index("ix_clicks_campaign_visitor", "clicks", &["campaign_id", "visitor"]),
            index("ix_audit_entity", "audit_log", &["entity", "entity_id"]),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "plugin_bindings",
            "plugin_packages",
            "commissions",
            "payouts",
            "conversions",
            "clicks",
            "coupons",
            "memberships",
            "affiliates",
            "tier_rates",
            "commission_groups",
            "campaigns",
            "operator_keys",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
