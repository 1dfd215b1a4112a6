{% test unique_combination_of_columns(model, combination_of_columns) %}

with

keys as (

    select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by all

)

select * from keys
where n_rows > 1

{% endtest %}
