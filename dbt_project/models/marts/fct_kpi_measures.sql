{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('month') }}",
        tags=['monthly'],
    )
}}

{#-
    Every measure of the plan's goals and follow-ups (issue 6, docs/domain.md §3) per municipality
    and month, as numerator / denominator / value. Levels: value = numerator (denominator
    null, except follow-up f where it is the persons behind the count). Shares: value =
    numerator / denominator, persons with at least one qualifying day in the month. The
    measure names are the `measure` column of the goals seed and of `kpi_measures`, so goals
    look their measure up by name. Every municipality with any person in the month's extract
    gets every measure (levels 0, shares null when nobody is in the denominator).
    Incremental over the partition window; follow-up c also reads the spell table
    var igu_followup_months months back.
-#}

{%- set igu_months = var('igu_followup_months') | int -%}

{%- set measures = [
    ('ftp_public_benefits', 'ftp_public_benefits', 'null'),
    ('ftp_public_benefits_national', 'ftp_public_benefits_national', 'null'),
    ('persons_public_benefits_overlap_removed', 'persons_public_benefits_overlap_removed', 'null'),
    ('ftp_youth_job_education_ready', 'ftp_youth_job_education_ready', 'null'),
    ('ftp_youth_activity_ready', 'ftp_youth_activity_ready', 'null'),
    ('share_unemployed_offers_company_directed', 'unemployed_in_company_offer', 'unemployed_in_offer'),
    ('share_sickness_partially_recovered', 'sickness_partially_recovered', 'sickness_benefit'),
    ('share_refugees_unsupported_employment', 'refugees_in_unsupported_employment', 'refugees'),
    ('ftp_cash_benefit_job_ready', 'ftp_cash_benefit_job_ready', 'null'),
    ('share_cash_benefit_activity_ready_with_ordinary_hours', 'cash_activity_ready_with_hours', 'cash_activity_ready'),
    ('share_resource_programme_company_directed', 'resource_programme_company_offer', 'resource_programme'),
    ('persons_public_benefits_over_52_weeks', 'persons_public_benefits_over_52_weeks', 'null'),
    ('share_female_refugees_self_supporting', 'female_refugees_self_supporting', 'female_refugees'),
    ('share_self_supporting_after_igu', 'self_supporting_after_igu', 'ended_igu'),
    ('companies_in_integration_offers', 'companies_in_integration_offers', 'null'),
    ('share_activity_ready_nonwestern_women_company_directed', 'nonwestern_women_activity_ready_company_offer', 'nonwestern_women_activity_ready'),
    ('conversations_activity_ready_cash_over_6_months', 'conversations_long_term_cash_activity_ready', 'persons_long_term_cash_activity_ready'),
] -%}

with

person_months as (

    select * from {{ ref('int_person_month_flags') }}
    where {{ month_window('month') }}

),

public_benefits as (

    select * from {{ ref('fct_public_benefits') }}
    where {{ month_window('month') }}

),

full_time_persons as (

    select * from {{ ref('fct_full_time_persons') }}
    where {{ month_window('month') }}

),

spell_months as (

    select * from {{ ref('int_benefit_spell_months') }}
    where {{ month_window('month', igu_months) }}

),

segment_days as (

    select * from {{ ref('int_segment_month_days') }}
    where {{ month_window('report_month') }}

),

catalogue as (

    select * from {{ ref('dim_kpi_measure') }}

),

-- goals 2, 3, 7: full-time persons of target groups
target_group_ftp as (

    select
        month,
        municipality_code,
        sum(full_time_persons) filter (
            where age_band = '16-29' and (
                benefit_code = 'ADAG'
                or (benefit_code = 'KONT' and visitation = 'jobparat')
                or (
                    benefit_code = 'UDD'
                    and visitation in ('uddannelsesparat', 'aabenlyst_uddannelsesparat')
                )
            )
        ) as ftp_youth_job_education_ready,
        sum(full_time_persons) filter (
            where age_band = '16-29'
            and benefit_code in ('KONT', 'UDD') and visitation = 'aktivitetsparat'
        ) as ftp_youth_activity_ready,
        sum(full_time_persons) filter (
            where age_band <> 'other' and benefit_code = 'KONT' and visitation = 'jobparat'
        ) as ftp_cash_benefit_job_ready,

    from full_time_persons
    group by month, municipality_code

),

-- follow-up a: public-benefit spells longer than 52 weeks
long_spells as (

    select
        month,
        municipality_code,
        count(distinct person_id) as persons_public_benefits_over_52_weeks,

    from spell_months
    where
        {{ month_window('month') }}
        and spell_type = 'public_benefit'
        and is_working_age
        and spell_days_to_date > 364
    group by month, municipality_code

),

-- follow-up f: persons whose kontanthjælp spell has lasted more than N months at month end
long_term_cash as (

    select distinct
        month,
        person_id,
    from spell_months
    where
        {{ month_window('month') }}
        and spell_type = 'KONT'
        and spell_start_date
        < cast(last_day(month) - interval {{ var('long_unemployment_months') | int }} month as date)

),

-- follow-up c: IGU spells that ended N months before the month
igu_pieces as (

    select * from spell_months
    where spell_type = 'IGU'

),

ended_igu as (

    select distinct
        cast(ended.month + interval {{ igu_months }} month as date) as month,
        ended.person_id,

    from igu_pieces as ended
    left join igu_pieces as continued
        on
            ended.person_id = continued.person_id
            and ended.spell_start_date = continued.spell_start_date
            and continued.month = ended.month + interval 1 month
    where
        ended.month < {{ window_end() }} - interval {{ igu_months }} month
        and (not ended.is_running_at_month_end or continued.person_id is null)

),

-- follow-up d: companies hosting integration offers
integration_companies as (

    select
        report_month as month,
        municipality_code,
        count(distinct offer_company_cvr) as companies_in_integration_offers,

    from segment_days
    where
        offer_company_cvr is not null
        and offer_type in ({{ sql_list(var('company_directed_offers')) }})
        and (refugee_status is not null or benefit_code in ('INT', 'IGU'))
    group by report_month, municipality_code

),

person_flags as (

    select
        person_months.*,
        long_term_cash.person_id is not null as is_long_term_cash,
        ended_igu.person_id is not null as has_ended_igu,

    from person_months
    left join long_term_cash
        on
            person_months.month = long_term_cash.month
            and person_months.person_id = long_term_cash.person_id
    left join ended_igu
        on
            person_months.month = ended_igu.month
            and person_months.person_id = ended_igu.person_id

),

person_counts as (

    select
        month,
        municipality_code,
        count(*) filter (where is_unemployed_in_offer) as unemployed_in_offer,
        count(*) filter (where is_unemployed_in_company_offer) as unemployed_in_company_offer,
        count(*) filter (where is_sickness_benefit) as sickness_benefit,
        count(*) filter (where is_sickness_partially_recovered) as sickness_partially_recovered,
        count(*) filter (where is_refugee_target) as refugees,
        count(*) filter (where is_refugee_target and has_unsupported_employment)
            as refugees_in_unsupported_employment,
        count(*) filter (where is_cash_activity_ready) as cash_activity_ready,
        count(*) filter (where is_cash_activity_ready_with_hours) as cash_activity_ready_with_hours,
        count(*) filter (where is_resource_programme) as resource_programme,
        count(*) filter (where is_resource_programme_company_offer)
            as resource_programme_company_offer,
        count(*) filter (where is_refugee_target and sex = 'K') as female_refugees,
        count(*) filter (where is_refugee_target and sex = 'K' and not has_benefit_day)
            as female_refugees_self_supporting,
        count(*) filter (where is_activity_ready and sex = 'K' and origin = 'ikke_vestlig')
            as nonwestern_women_activity_ready,
        count(*) filter (
            where is_activity_ready_company_offer and sex = 'K' and origin = 'ikke_vestlig'
        ) as nonwestern_women_activity_ready_company_offer,
        count(*) filter (where is_cash_activity_ready and is_long_term_cash)
            as persons_long_term_cash_activity_ready,
        coalesce(sum(conversations_cash_activity_ready) filter (
            where is_cash_activity_ready and is_long_term_cash
        ), 0) as conversations_long_term_cash_activity_ready,
        count(*) filter (where has_ended_igu) as ended_igu,
        count(*) filter (where has_ended_igu and not has_benefit_day)
            as self_supporting_after_igu,

    from person_flags
    group by month, municipality_code

),

wide as (

    select
        person_counts.*,
        coalesce(public_benefits.full_time_persons_plan, 0) as ftp_public_benefits,
        coalesce(public_benefits.full_time_persons_national, 0) as ftp_public_benefits_national,
        coalesce(public_benefits.persons_plan_overlap_removed, 0)
            as persons_public_benefits_overlap_removed,
        coalesce(target_group_ftp.ftp_youth_job_education_ready, 0)
            as ftp_youth_job_education_ready,
        coalesce(target_group_ftp.ftp_youth_activity_ready, 0) as ftp_youth_activity_ready,
        coalesce(target_group_ftp.ftp_cash_benefit_job_ready, 0) as ftp_cash_benefit_job_ready,
        coalesce(long_spells.persons_public_benefits_over_52_weeks, 0)
            as persons_public_benefits_over_52_weeks,
        coalesce(integration_companies.companies_in_integration_offers, 0)
            as companies_in_integration_offers,

    from person_counts
    left join public_benefits
        on
            person_counts.month = public_benefits.month
            and person_counts.municipality_code = public_benefits.municipality_code
    left join target_group_ftp
        on
            person_counts.month = target_group_ftp.month
            and person_counts.municipality_code = target_group_ftp.municipality_code
    left join long_spells
        on
            person_counts.month = long_spells.month
            and person_counts.municipality_code = long_spells.municipality_code
    left join integration_companies
        on
            person_counts.month = integration_companies.month
            and person_counts.municipality_code = integration_companies.municipality_code

),

unpivoted as (

    {% for measure, numerator, denominator in measures %}
        select
            month,
            municipality_code,
            '{{ measure }}' as measure,
            cast({{ numerator }} as double) as numerator,
            cast({{ denominator }} as double) as denominator,
        from wide
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cast(unpivoted.month as date) as month,
        cast(unpivoted.municipality_code as integer) as municipality_code,
        cast(unpivoted.measure as varchar) as measure,
        cast(catalogue.kind as varchar) as kind,
        cast(unpivoted.numerator as double) as numerator,
        cast(unpivoted.denominator as double) as denominator,
        cast(
            case
                when catalogue.kind = 'share'
                    then unpivoted.numerator / nullif(unpivoted.denominator, 0)
                else unpivoted.numerator
            end
            as double
        ) as value,

    from unpivoted
    left join catalogue on unpivoted.measure = catalogue.measure

)

select * from final
