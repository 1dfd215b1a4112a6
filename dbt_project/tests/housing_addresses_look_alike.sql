{{ config(severity='warn') }}

{#-
    Warns when two different address names of a municipality share a matching key (case,
    punctuation and spaces ignored) and are not mapped in housing_address_aliases: probably
    one address spelled two ways. Fix by adding the variant to the seed.
-#}
with

addresses as (

    select * from {{ ref('int_housing_addresses') }}

),

final as (

    select
        municipality_code,
        address_key,
        count(distinct address) as names,
    from addresses
    group by all
    having count(distinct address) > 1

)

select * from final
